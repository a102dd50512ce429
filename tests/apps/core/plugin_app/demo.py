calls: list[str] = []


def setup_demo(*, organisation, stdout) -> None:  # type: ignore[no-untyped-def]
    calls.append(organisation.name)
    stdout.write("plugin demo data ready\n")
