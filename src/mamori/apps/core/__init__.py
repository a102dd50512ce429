"""apps.core: organisation, population, departments, staff, roles, audit log, fiscal year & 和暦.

Imports no other app; every other app may import it.
"""
