"""Cross-test: librouteros (PyPI, luqasz) against pagos-hotspot's RouterOS simulator.

Usage: python3 routeros_librouteros.py HOST PORT USER PASSWORD plain|legacy
Exits 0 and prints "OK librouteros" when every check passes; any failure raises.
librouteros sends untagged commands, strictly one at a time, with `?=name=value` queries.
"""

import sys

from librouteros import connect
from librouteros.exceptions import TrapError
from librouteros.login import plain, token
from librouteros.query import Key

USER_EXISTS = "failure: already have user with this name for this server"


def main() -> None:
    host, port, user, password, mode = sys.argv[1:6]
    method = token if mode == "legacy" else plain
    api = connect(host=host, port=int(port), username=user, password=password,
                  login_method=method, timeout=10)

    users = api.path("ip", "hotspot", "user")
    name = "xt-librouteros-1"
    new_id = users.add(name=name, password="pw-lib", profile="1h", comment="cross test")
    assert isinstance(new_id, str) and new_id.startswith("*"), new_id

    rows = list(users.select(Key(".id"), Key("name"), Key("profile")).where(Key("name") == name))
    assert len(rows) == 1, rows
    assert rows[0][".id"] == new_id, rows
    assert rows[0]["name"] == name and rows[0]["profile"] == "1h", rows
    assert set(rows[0].keys()) == {".id", "name", "profile"}, rows

    try:
        users.add(name=name, password="x", profile="1h")
    except TrapError as e:
        assert e.message == USER_EXISTS, repr(e.message)
    else:
        raise AssertionError("duplicate add did not trap")

    profiles = [p["name"] for p in api.path("ip", "hotspot", "user", "profile")]
    for expected in ("default", "1h", "1d", "1w"):
        assert expected in profiles, profiles

    users.remove(new_id)
    rows = list(users.select(Key(".id")).where(Key("name") == name))
    assert rows == [], rows

    try:
        users.remove(new_id)
    except TrapError as e:
        assert "no such item" in e.message, repr(e.message)
    else:
        raise AssertionError("remove of a removed id did not trap")

    ident = list(api.path("system", "identity"))
    assert ident and "name" in ident[0], ident
    api.close()
    print("OK librouteros")


if __name__ == "__main__":
    main()
