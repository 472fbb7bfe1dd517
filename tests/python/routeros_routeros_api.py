"""Cross-test: routeros-api (PyPI, socialwifi) against pagos-hotspot's RouterOS simulator.

Usage: python3 routeros_routeros_api.py HOST PORT USER PASSWORD plain|legacy
Exits 0 and prints "OK routeros-api" when every check passes; any failure raises.
routeros-api tags every command (login included), writes one word per send() and sends
`?name=value` queries.
"""

import sys

import routeros_api
from routeros_api.exceptions import RouterOsApiCommunicationError

USER_EXISTS = b"failure: already have user with this name for this server"


def main() -> None:
    host, port, user, password, mode = sys.argv[1:6]
    pool = routeros_api.RouterOsApiPool(host, username=user, password=password, port=int(port),
                                        plaintext_login=(mode != "legacy"))
    pool.socket_timeout = 10
    api = pool.get_api()

    users = api.get_resource("/ip/hotspot/user")
    name = "xt-routeros-api-1"
    users.add(name=name, password="0457", profile="1d", comment="cross test")

    rows = users.get(name=name)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["name"] == name and row["profile"] == "1d", row
    assert row["password"] == "0457", row  # values stay strings
    user_id = row["id"]
    assert user_id.startswith("*"), row

    try:
        users.add(name=name, password="x", profile="1d")
    except RouterOsApiCommunicationError as e:
        assert e.original_message == USER_EXISTS, repr(e.original_message)
    else:
        raise AssertionError("duplicate add did not trap")

    profiles = [p["name"] for p in api.get_resource("/ip/hotspot/user/profile").get()]
    for expected in ("default", "1h", "1d", "1w"):
        assert expected in profiles, profiles

    users.remove(id=user_id)
    assert users.get(name=name) == [], "user still listed after remove"

    try:
        users.remove(id=user_id)
    except RouterOsApiCommunicationError as e:
        assert b"no such item" in e.original_message, repr(e.original_message)
    else:
        raise AssertionError("remove of a removed id did not trap")

    ident = api.get_resource("/system/identity").get()
    assert ident and "name" in ident[0], ident
    pool.disconnect()
    print("OK routeros-api")


if __name__ == "__main__":
    main()
