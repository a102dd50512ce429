"""apps.evaluation: the annual evaluation sheet (事務事業評価シート); reads other apps only through their selectors."""
