from __future__ import annotations

import sys
import types

import pytest

from sapbridge.config import SystemConfig
from sapbridge.errors import ConfigError, SapAuthError, SapBusinessError, SapUnavailableError
from sapbridge.rfc.bapi import raise_for_return
from sapbridge.rfc.client import RfcClient, split_where
from sapbridge.rfc.live import LiveRfcConnection


class Scripted:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def call(self, function, **params):
        self.calls.append((function, params))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


def test_bapiret2_errors_raise_with_a_readable_line():
    result = {"RETURN": [{"TYPE": "S", "MESSAGE": "ok"}, {"TYPE": "E", "ID": "RW", "NUMBER": "609", "MESSAGE": "Error in document"},
                         {"TYPE": "A", "ID": "F5", "NUMBER": "001", "MESSAGE": "Abort"}]}
    with pytest.raises(SapBusinessError, match="BAPI_ACC_DOCUMENT_POST failed: E RW 609: Error in document \\(and 1 more\\)") as caught:
        raise_for_return("BAPI_ACC_DOCUMENT_POST", result)
    assert len(caught.value.messages) == 2


def test_old_bapireturn_structure_and_warnings():
    raise_for_return("X", {"RETURN": {"TYPE": "W", "CODE": "FN001", "MESSAGE": "careful"}})
    with pytest.raises(SapBusinessError, match="E FN001: No authorisation"):
        raise_for_return("BAPI_AR_ACC_GETOPENITEMS", {"RETURN": {"TYPE": "E", "CODE": "FN001", "MESSAGE": "No authorisation"}})


def test_communication_errors_are_retried_then_succeed():
    connection = Scripted(SapUnavailableError("link down"), {"RETURN": []})
    assert RfcClient(connection, sleep=lambda s: None).call("RFC_PING") == {"RETURN": []}
    assert len(connection.calls) == 2


def test_retries_exhausted():
    connection = Scripted(*[SapUnavailableError("link down")] * 3)
    with pytest.raises(SapUnavailableError):
        RfcClient(connection, max_attempts=3, sleep=lambda s: None).call("RFC_PING")
    assert len(connection.calls) == 3


def test_logon_errors_are_not_retried():
    connection = Scripted(SapAuthError("logon refused"), {})
    with pytest.raises(SapAuthError):
        RfcClient(connection, sleep=lambda s: None).call("RFC_PING")
    assert len(connection.calls) == 1


def test_read_table_pages_and_splits_where_clauses():
    first = {"DATA": [{"WA": "1000|A "}, {"WA": "2000|B"}], "FIELDS": [{"FIELDNAME": "BUKRS"}, {"FIELDNAME": "X"}]}
    second = {"DATA": [{"WA": "3000|C"}], "FIELDS": [{"FIELDNAME": "BUKRS"}, {"FIELDNAME": "X"}]}
    connection = Scripted(first, second)
    rows = list(RfcClient(connection).read_table("T001", ["BUKRS", "X"], ["BUKRS IN ('1000','2000','3000') AND " + "X = 'A' OR " * 10 + "X = 'B'"], batch=2))
    assert rows == [{"BUKRS": "1000", "X": "A"}, {"BUKRS": "2000", "X": "B"}, {"BUKRS": "3000", "X": "C"}]
    assert [c[1]["ROWSKIPS"] for c in connection.calls] == [0, 2]
    options = connection.calls[0][1]["OPTIONS"]
    assert len(options) > 1
    assert all(len(o["TEXT"]) <= 72 for o in options)
    assert " ".join(o["TEXT"] for o in options).startswith("BUKRS IN ('1000','2000','3000') AND X = 'A'")


def test_split_where_keeps_words_whole():
    assert split_where(["A = 'x'"]) == [{"TEXT": "A = 'x'"}]


def test_missing_pyrfc_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyrfc", None)
    with pytest.raises(ConfigError, match="sapbridge\\[rfc\\]"):
        LiveRfcConnection(SystemConfig(name="P", rfc={"ashost": "h", "sysnr": "00"}), "pw")


def fake_pyrfc(error_name):
    module = types.ModuleType("pyrfc")
    error = type(error_name, (Exception,), {})

    class Connection:
        def __init__(self, **params):
            self.params = params

        def call(self, function, **params):
            raise error("RFC_COMMUNICATION_FAILURE: partner not reached")

        def close(self):
            pass

    module.Connection = Connection
    return module


@pytest.mark.parametrize(("name", "expected"), [("CommunicationError", SapUnavailableError),
                                                ("LogonError", SapAuthError),
                                                ("ABAPApplicationError", SapBusinessError)])
def test_pyrfc_errors_are_translated_by_class(monkeypatch, name, expected):
    monkeypatch.setitem(sys.modules, "pyrfc", fake_pyrfc(name))
    connection = LiveRfcConnection(SystemConfig(name="P", user="U", rfc={"ashost": "h", "sysnr": "00"}), "topsecret")
    with pytest.raises(expected) as caught:
        connection.call("BAPI_X")
    assert "topsecret" not in str(caught.value)
