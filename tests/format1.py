"""Format-1 pass links, as stations made them before format 2: passes already printed with
them must keep scanning."""

from __future__ import annotations

from station.app import Core
from station.domain import tokens
from station.domain.models import Pass
from station.domain.payload import public_url


def format1_url(core: Core, p: Pass) -> str:
    key = core.ctx.keys.private
    claims = tokens.Claims(pass_id=p.id, code=p.code, type=p.type, max_uses=p.max_uses,
                           valid_from=p.valid_from, valid_until=p.valid_until,
                           kid=tokens.key_id(key.public_key()))
    return public_url(core.ctx.base_url, p.code, tokens.sign(key, claims))
