"""Settings split: base (shared), local (the embedded default), production, test."""
