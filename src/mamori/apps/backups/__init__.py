"""apps.backups: protected systems, repositories, schedules, runs, drills; the only app that imports mamori.vault."""
