import socket


def test_database_host_resolves():
    # .invalid never resolves (RFC 2606), so this fails the same way everywhere.
    assert socket.getaddrinfo("staging-db.invalid", 5432)
