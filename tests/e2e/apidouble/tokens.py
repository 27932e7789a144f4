"""Bearer tokens changed at run time, as a projected service-account token rotates:
`POST /_double/tokens {"NEW": "USER[:GROUP,...]", "OLD": null}` accepts NEW from now on and
refuses OLD (401), so that a client must read its tokenFile again."""
from .status import bad_request


def parse_who(who):
    """ "USER[:GROUP,...]" -> (user, groups), as --token gives them."""
    user, _, groups = who.partition(":")
    return user, [g for g in groups.split(",") if g] + ["system:authenticated"]


def apply(config, body):
    if not isinstance(body, dict) or not all(isinstance(v, (str, type(None))) for v in body.values()):
        raise bad_request('expected {"TOKEN": "USER[:GROUP,...]" or null}')
    with config.lock:
        for token, who in body.items():
            if who is None:
                config.tokens.pop(token, None)
            else:
                config.tokens[token] = parse_who(who)
        return {"tokens": len(config.tokens)}
