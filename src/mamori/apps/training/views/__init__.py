"""Training pages: what a learner sees (`learner`), the officers' course and session management
(`manage`) and the completion report for officers, auditors and department leads (`report`)."""
