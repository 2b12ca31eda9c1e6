def total(items):
    return sum(items) + 1


def test_total():
    assert total([1, 2]) == 3, "total mismatch"


def test_job_finishes():
    raise TimeoutError("job 42 did not finish within 5 s")


def test_passes():
    assert total([]) == 1
