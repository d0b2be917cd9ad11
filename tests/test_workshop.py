"""Workshop mode's core: rooms, rounds, the leaderboard, access checks and restart from SQLite."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.model import CustomerMarket
from sim.workshop import DEFAULT_CHOICE, AccessDenied, Workshop, WorkshopError, WorkshopStrategy
from sim.workshop.room import CODE_ALPHABET, CODE_LENGTH, market_scenario

WEEKS = 6
CUSTOMERS = 400


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workshop]:
    w = Workshop(str(tmp_path / "rooms.sqlite"))
    yield w
    w.close()


def _room(shop: Workshop, players: tuple[str, ...] = ("Ana", "Ben", "Caz"), rounds: int = 3):
    code, key = shop.create_room(weeks=WEEKS, rounds=rounds, customers=CUSTOMERS)
    tokens = [shop.join(code, name)[0] for name in players]
    return code, key, tokens


def test_room_lifecycle(shop: Workshop) -> None:
    code, key = shop.create_room(weeks=WEEKS, rounds=2, seats=3, customers=CUSTOMERS)
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert len(key) >= 20
    with pytest.raises(WorkshopError, match="nobody has joined"):
        shop.start_round(code, key)
    t0, f0 = shop.join(code, "Ana")
    t1, f1 = shop.join(code.lower(), "  Ben  ")  # codes are case-insensitive, names trimmed
    assert (f0, f1) == (0, 1) and t0 != t1
    assert shop.whoami(code, t1)["name"] == "Ben"
    assert shop.status(code, key)["phase"] == "lobby"
    assert shop.leaderboard(code) == []

    assert shop.start_round(code, key) == 1
    with pytest.raises(WorkshopError, match="already open"):
        shop.start_round(code, key)
    with pytest.raises(WorkshopError, match="joining is closed"):
        shop.join(code, "Late")
    board = shop.close_round(code, key)
    assert [row["rank"] for row in board] == [1, 2]
    assert shop.status(code, key)["phase"] == "between"
    with pytest.raises(WorkshopError, match="no round is open"):
        shop.close_round(code, key)
    with pytest.raises(WorkshopError, match="no round is open"):
        shop.submit(code, t0, {"promise_level": 0.2})

    assert shop.start_round(code, key) == 2
    shop.close_round(code, key)
    status = shop.status(code, key)
    assert (status["phase"], status["round"]) == ("finished", 2)
    with pytest.raises(WorkshopError, match="all 2 rounds"):
        shop.start_round(code, key)
    assert shop.room(code).model.steps == 2 * WEEKS


def test_seats_and_names_are_checked(shop: Workshop) -> None:
    code, _ = shop.create_room(weeks=WEEKS, rounds=1, seats=2, customers=CUSTOMERS)
    shop.join(code, "Ana")
    for bad, message in (
        ("", "expected a name"),
        ("   ", "expected a name"),
        ("x" * 41, "at most 40"),
        ("ana", "taken"),
        ("A\x00b", "control"),
        (7, "expected text"),
    ):
        with pytest.raises(WorkshopError, match=message):
            shop.join(code, bad)  # type: ignore[arg-type]
    shop.join(code, "Ben")
    with pytest.raises(WorkshopError, match="full"):
        shop.join(code, "Caz")
    for bad_code in ("", "ABC", "ABCDEFG", "ABCDE0", "abc' OR 1=1"):
        with pytest.raises(WorkshopError, match="room code"):
            shop.join(bad_code, "Dee")
    with pytest.raises(WorkshopError, match="no room"):
        shop.join("ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", "Dee")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"weeks": 0}, "weeks"),
        ({"rounds": 51}, "rounds"),
        ({"seats": True}, "seats"),
        ({"customers": 10}, "customers"),
        ({"seed": -1}, "seed"),
        ({"scenario": "no_such_scenario"}, "scenario"),
    ],
)
def test_room_settings_are_validated(shop: Workshop, settings: dict, message: str) -> None:
    with pytest.raises(WorkshopError, match=message):
        shop.create_room(**settings)


def test_round_mechanics_keep_last_choices(shop: Workshop) -> None:
    code, key, (ana, ben, caz) = _room(shop)
    shop.start_round(code, key)
    shop.submit(code, ana, {"promise_level": 0.8, "marketing": 0.9})
    shop.submit(code, ben, {"focus": "service", "disclose": True})
    shop.submit(code, ben, {"marketing": 0.1})  # a second action keeps the earlier levers
    status = shop.status(code, key)
    assert [p["acted"] for p in status["participants"]] == [True, True, False]
    shop.close_round(code, key)
    room = shop.room(code)
    assert room.choices[1][0].promise_level == 0.8 and room.choices[1][0].marketing == 0.9
    assert room.choices[1][1].focus == "service" and room.choices[1][1].disclose
    assert room.choices[1][1].marketing == 0.1
    assert room.choices[1][2] == DEFAULT_CHOICE  # did not act in round 1: the defaults

    shop.start_round(code, key)
    assert [p["acted"] for p in shop.status(code, key)["participants"]] == [False] * 3
    shop.submit(code, caz, {"promise_level": -0.2})
    shop.close_round(code, key)
    assert room.choices[2][0] == room.choices[1][0]  # kept her last choice
    assert room.choices[2][1] == room.choices[1][1]
    assert room.choices[2][2].promise_level == -0.2
    assert room.submitted[2] == {2}
    for firm in range(3):  # the model's firms run the final choices
        strategy = room.model.firms[firm].strategy
        assert isinstance(strategy, WorkshopStrategy)
        assert strategy.levers == room.choices[2][firm]
    fs = room.model.firm_state  # the market runs them: promise and disclosure
    assert fs.promise[0].mean() > fs.promise[2].mean()
    assert fs.disclose[1] and not fs.disclose[0]


def _independent_run(shop: Workshop, code: str) -> tuple[CustomerMarket, list[list[dict]]]:
    """The same market run without the workshop, from the stored choices."""
    room = shop.room(code)
    scenario = market_scenario(
        room.scenario,
        [p.name for p in room.participants],
        room.customers,
        room.seed,
        room.weeks * room.rounds,
    )
    model = CustomerMarket(scenario, track=0, eager_agents=False)
    boards = []
    for r in sorted(room.results):
        for firm, choice in room.choices[r].items():
            model.firms[firm].strategy = WorkshopStrategy(**choice.model_dump())
        start = model.steps
        model.run(room.weeks)
        boards.append(Workshop.round_results(model, start))
    return model, boards


def test_leaderboard_equals_the_models_numbers(shop: Workshop) -> None:
    code, key, (ana, ben, caz) = _room(shop)
    shop.start_round(code, key)
    shop.submit(code, ana, {"promise_level": 1.0})
    shop.submit(code, caz, {"marketing": 0.0, "disclose": True})
    first = shop.close_round(code, key)
    shop.start_round(code, key)
    shop.submit(code, ben, {"focus": "speed", "marketing": 1.0})
    board = shop.close_round(code, key)
    assert shop.leaderboard(code) == board
    assert shop.leaderboard(code, 1) == first

    model = shop.room(code).model
    df = model.firm_metrics()
    assert df["step"].max() == 2 * WEEKS
    last = df[df["step"] == 2 * WEEKS].set_index("firm")
    round2 = df[df["step"] > WEEKS]
    for row in board:
        f = row["firm"]
        assert row["name"] == model.firm_names[f]
        assert row["customers"] == last.loc[f, "customers"] == model.firm_state.customers[f]
        assert row["share"] == pytest.approx(100 * last.loc[f, "share"])
        assert row["retention"] == pytest.approx(last.loc[f, "retention_annual"], nan_ok=True)
        assert row["nps"] == pytest.approx(last.loc[f, "nps"], nan_ok=True)
        assert row["trust"] == pytest.approx(last.loc[f, "trust"], nan_ok=True)
        assert row["cash"] == pytest.approx(last.loc[f, "cash"])
        expected = round2.loc[round2["firm"] == f, "profit"].sum() / model.steps_per_year
        assert row["profit"] == pytest.approx(expected)
    customers = [row["customers"] for row in board]
    assert customers == sorted(customers, reverse=True)
    assert sum(customers) == model.firm_state.customers.sum()

    _, boards = _independent_run(shop, code)  # the same numbers without the workshop
    for stored, replayed in zip((first, board), boards, strict=True):
        by_firm = {row["firm"]: row for row in replayed}
        for row in stored:
            for k in ("customers", "share", "retention", "nps", "trust", "profit", "cash"):
                assert row[k] == pytest.approx(by_firm[row["firm"]][k], nan_ok=True), k


def test_overpromising_breaks_trust(tmp_path: Path) -> None:
    shop = Workshop(str(tmp_path / "w.sqlite"))
    code, key = shop.create_room(weeks=26, rounds=1, customers=1000)
    honest, _ = shop.join(code, "Honest")
    liar, _ = shop.join(code, "Liar")
    shop.start_round(code, key)
    shop.submit(code, honest, {"promise_level": 0.0})
    shop.submit(code, liar, {"promise_level": 1.0})
    board = {row["name"]: row for row in shop.close_round(code, key)}
    assert board["Liar"]["trust"] < board["Honest"]["trust"] - 0.05
    shop.close()


def test_participant_cannot_act_on_another_firm(shop: Workshop) -> None:
    code, key, (ana, ben, _) = _room(shop)
    other_code, other_key = shop.create_room(weeks=WEEKS, rounds=1, customers=CUSTOMERS)
    stranger, _ = shop.join(other_code, "Ana")
    shop.start_round(code, key)
    shop.start_round(other_code, other_key)
    before = shop.status(code, key)

    with pytest.raises(AccessDenied):  # her token, Ben's firm
        shop.submit(code, ana, {"promise_level": 1.0}, firm=1)
    with pytest.raises(AccessDenied):
        shop.submit(code, ana, {"promise_level": 1.0}, firm=True)  # type: ignore[arg-type]
    with pytest.raises(WorkshopError, match="firm"):  # a firm smuggled into the levers
        shop.submit(code, ana, {"promise_level": 1.0, "firm": 1})
    for token in ("", "guess", stranger, key, None):  # no token, a guess, another room's, the key
        with pytest.raises(AccessDenied):
            shop.submit(code, token, {"promise_level": 1.0})  # type: ignore[arg-type]
    for wrong in (ana, other_key, "", None):
        with pytest.raises(AccessDenied):
            shop.close_round(code, wrong)  # type: ignore[arg-type]
        with pytest.raises(AccessDenied):
            shop.status(code, wrong)  # type: ignore[arg-type]
    assert shop.status(code, key) == before  # nothing changed

    shop.submit(code, ben, {"promise_level": 0.4}, firm=1)  # naming one's own firm is fine
    assert shop.whoami(code, ben)["choice"]["promise_level"] == 0.4
    assert shop.whoami(code, ana)["choice"] == DEFAULT_CHOICE.model_dump()


@pytest.mark.parametrize(
    "levers, message",
    [
        ({"promise_level": 5}, "promise_level"),
        ({"promise_level": "lots"}, "promise_level"),
        ({"promise_level": math.nan}, "promise_level"),
        ({"marketing": -0.1}, "marketing"),
        ({"focus": "price gouging"}, "focus"),
        ({"disclose": "yes"}, "disclose"),
        ({"inflation": 0.3}, "inflation"),
    ],
)
def test_levers_are_validated(shop: Workshop, levers: dict, message: str) -> None:
    code, key, (ana, *_) = _room(shop)
    shop.start_round(code, key)
    with pytest.raises(WorkshopError, match=message):
        shop.submit(code, ana, levers)
    assert shop.whoami(code, ana)["acted"] is False


def test_restart_from_sqlite_restores_the_room(tmp_path: Path) -> None:
    path = tmp_path / "rooms.sqlite"
    shop = Workshop(str(path))
    code, key, (ana, ben, caz) = _room(shop, rounds=4)
    shop.start_round(code, key)
    shop.submit(code, ana, {"promise_level": 0.7, "focus": "speed"})
    shop.close_round(code, key)
    shop.start_round(code, key)
    shop.submit(code, ben, {"marketing": 0.2, "disclose": True})
    shop.close_round(code, key)
    shop.start_round(code, key)
    shop.submit(code, caz, {"promise_level": -0.3})  # round 3 open, one choice pending
    before = shop.room(code)
    status, board = shop.status(code, key), shop.leaderboard(code)
    steps = before.model.steps
    shop.close()  # the server stops

    data = path.read_bytes()
    for secret in (key, ana, ben, caz):
        assert secret.encode() not in data  # only hashes are stored

    again = Workshop(str(path))
    room = again.room(code)
    assert room.replay_matches is True
    assert again.status(code, key) == status
    assert again.leaderboard(code) == board
    assert room.model.steps == steps
    assert room.submitted[3] == {2}
    assert again.whoami(code, caz)["choice"]["promise_level"] == -0.3
    assert again.whoami(code, ana)["choice"]["focus"] == "speed"

    # the restored room plays on exactly as the original would have
    original = Workshop(str(tmp_path / "copy.sqlite"))
    code2, key2, (a2, b2, c2) = _room(original, rounds=4)
    for r, (token, levers) in enumerate(
        [
            (a2, {"promise_level": 0.7, "focus": "speed"}),
            (b2, {"marketing": 0.2, "disclose": True}),
            (c2, {"promise_level": -0.3}),
        ],
        1,
    ):
        original.start_round(code2, key2)
        original.submit(code2, token, levers)
        if r < 3:
            original.close_round(code2, key2)
    expected = original.close_round(code2, key2)
    got = again.close_round(code, key)
    assert got == expected
    original.close()

    # and it was saved: a third start sees round 3 closed
    again.close()
    third = Workshop(str(path))
    assert third.status(code, key)["phase"] == "between"
    assert third.leaderboard(code) == got
    rows = (
        sqlite3.connect(path)
        .execute(
            "SELECT round, firm, submitted FROM choices WHERE code = ? ORDER BY round, firm",
            (code,),
        )
        .fetchall()
    )
    assert rows == [
        (1, 0, 1),
        (1, 1, 0),
        (1, 2, 0),
        (2, 0, 0),
        (2, 1, 1),
        (2, 2, 0),
        (3, 0, 0),
        (3, 1, 0),
        (3, 2, 1),
    ]
    third.close()


def test_cli_registers_workshop_and_reports_a_taken_port(tmp_path: Path) -> None:
    import socket

    from sim.cli import CliError, build_parser
    from sim.workshop.cli import DEFAULT_PORT, cmd_workshop, server_command

    args = build_parser().parse_args(["workshop", "--db", str(tmp_path / "w.sqlite")])
    assert args.func is cmd_workshop and args.port == DEFAULT_PORT
    assert server_command("127.0.0.1", 9000)[3:5] == ["run", "sim.workshop.app"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        taken = build_parser().parse_args(
            ["workshop", "--port", str(port), "--db", str(tmp_path / "w.sqlite")]
        )
        with pytest.raises(CliError, match="already in use"):
            cmd_workshop(taken)
