import staging_only_helpers  # noqa: F401  (not installed: the module fails to import)


def test_never_collected():
    pass
