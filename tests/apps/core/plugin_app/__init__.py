"""A stand-in app with a `demo` module, to test the demo plugin hook without a real app."""
