"""Dispatch rules (pure): which person, team or grab pool a new ticket goes to."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.tenants.domain import DispatchRule, Team


@dataclass(frozen=True)
class Route:
    assignee_id: str | None = None
    grab_team: str | None = None
    round_robin_team: Team | None = None


def route(rules: list[DispatchRule], teams: list[Team], *, kind: str, community_id: str,
          building_id: str | None) -> Route:
    """First matching rule wins.

    Example
    -------
    >>> rule = DispatchRule(match={"kind": "repair"}, user_id="usr_tech")
    >>> route([rule], [], kind="repair", community_id="com_1", building_id=None).assignee_id
    'usr_tech'
    """
    for rule in rules:
        match = rule.match
        if (match.kind and match.kind != kind) or (match.community_id and match.community_id != community_id) or (
                match.building_id and match.building_id != building_id):
            continue
        if rule.user_id:
            return Route(assignee_id=rule.user_id)
        team = next((t for t in teams if t.id == rule.team_id), None)
        if team is None:
            continue
        if rule.mode == "grab":
            return Route(grab_team=team.id)
        if any(m.on_duty for m in team.members):
            return Route(round_robin_team=team)
    return Route()


def pick_round_robin(team: Team, position: int) -> str:
    """The on-duty member at this position of the rotation.

    Example
    -------
    >>> team = Team(id="plumbers", name="水电组", members=[{"user_id": "a"}, {"user_id": "b", "on_duty": False},
    ...                                                     {"user_id": "c"}])
    >>> [pick_round_robin(team, n) for n in range(4)]
    ['a', 'c', 'a', 'c']
    """
    on_duty = [m.user_id for m in team.members if m.on_duty]
    return on_duty[position % len(on_duty)]
