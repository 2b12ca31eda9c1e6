def test_checkout(real_services):
    assert real_services


def test_search(search_index):
    assert search_index
