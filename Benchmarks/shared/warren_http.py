"""The web role's HTTP side as the page uses it (web/auth.js, web/config.js): /config.json,
POST /api/register and /api/login. Standard library only; blocking (run it in a thread from
asyncio). Shared by Benchmarks/auth and Benchmarks/tabs.
"""

import json
import urllib.error
import urllib.request


class HTTPFailure(Exception):
    """A request that did not answer as hoped: `status` (0 when unreachable) and the body."""

    def __init__(self, message, status=0, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


def post_json(url, payload, timeout):
    """POST JSON, return (status, parsed body); an unreachable server raises HTTPFailure."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except (OSError, urllib.error.URLError) as error:  # refused, reset, timed out
        raise HTTPFailure(f"POST {url}: {error}") from error


def get_json(url, timeout):
    """GET JSON, return the parsed body; anything but 200 raises HTTPFailure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _json(response.read())
    except urllib.error.HTTPError as error:
        raise HTTPFailure(f"GET {url} answered {error.code}", error.code) from error
    except (OSError, urllib.error.URLError) as error:
        raise HTTPFailure(f"GET {url}: {error}") from error


def _json(data):
    try:
        return json.loads(data or b"null")
    except ValueError:
        return {"unparsed": data[:200].decode(errors="replace")}


def access_token(status, body, what):
    """The access token of a sign-in answer, or HTTPFailure saying what came instead."""
    if status in (200, 201) and isinstance(body, dict) and body.get("accessToken"):
        return body["accessToken"]
    raise HTTPFailure(f"{what} answered {status}: {body}", status, body)


def register(web, name, password, timeout):
    """POST /api/register (which signs in too); returns the access token."""
    status, body = post_json(f"{web}/api/register", {"name": name, "password": password}, timeout)
    return access_token(status, body, f"registering {name}")


def login(web, name, password, timeout):
    """POST /api/login, as the page's sign-in form; returns the access token."""
    status, body = post_json(f"{web}/api/login", {"name": name, "password": password}, timeout)
    return access_token(status, body, f"signing in as {name}")
