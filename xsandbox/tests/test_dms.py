"""DM events: the three read endpoints, event types, groups, and sending."""

from __future__ import annotations


def test_one_to_one_conversation_id_and_fields(sandbox, brand, x):
    alice = sandbox.create_user("alice")
    sandbox.send_dm("alice", "hello, order 42 is late", recipient=brand["id"])
    sandbox.send_dm(brand["id"], "sorry! looking", recipient="alice")
    ids = sorted([alice["id"], brand["id"]], key=int)
    conv = f"{ids[0]}-{ids[1]}"
    body = x("GET", "/2/dm_events", params={
        "dm_event.fields": "id,text,event_type,dm_conversation_id,sender_id,participant_ids,created_at",
        "expansions": "sender_id"}).json()
    assert [e["text"] for e in body["data"]] == ["sorry! looking", "hello, order 42 is late"]
    event = body["data"][1]
    assert event["dm_conversation_id"] == conv
    assert event["sender_id"] == alice["id"]
    assert event["created_at"].endswith("Z") and event["event_type"] == "MessageCreate"
    assert {u["id"] for u in body["includes"]["users"]} == {alice["id"], brand["id"]}
    default = x("GET", f"/2/dm_conversations/{conv}/dm_events").json()
    assert set(default["data"][0]) == {"id", "event_type", "text"}
    with_alice = x("GET", f"/2/dm_conversations/with/{alice['id']}/dm_events").json()
    assert with_alice["data"] == default["data"]


def test_group_conversations_and_event_types(sandbox, brand, x):
    sandbox.create_user("alice")
    bob = sandbox.create_user("bob")
    group = sandbox.create_group("alice", ["bob", brand["id"]], text="team question")
    sandbox.leave_group("bob", group["dm_conversation_id"])
    body = x("GET", f"/2/dm_conversations/{group['dm_conversation_id']}/dm_events",
             params={"dm_event.fields": "participant_ids,sender_id"}).json()
    kinds = [e["event_type"] for e in body["data"]]
    assert kinds == ["ParticipantsLeave", "MessageCreate", "ParticipantsJoin"]
    assert len(body["data"][2]["participant_ids"]) == 3
    assert body["data"][0]["participant_ids"] == [bob["id"]]
    only = x("GET", "/2/dm_events", params={"event_types": "MessageCreate"}).json()
    assert [e["event_type"] for e in only["data"]] == ["MessageCreate"]
    assert x("GET", "/2/dm_events", params={"event_types": "Bogus"}).status_code == 400


def test_dm_paging(sandbox, brand, x):
    sandbox.create_user("alice")
    for i in range(12):
        sandbox.send_dm("alice", f"msg {i}", recipient=brand["id"])
    seen, token = [], None
    while True:
        params = {"max_results": 5, **({"pagination_token": token} if token else {})}
        body = x("GET", "/2/dm_events", params=params).json()
        seen += [e["text"] for e in body["data"]]
        token = body["meta"].get("next_token")
        if not token:
            break
    assert seen == [f"msg {i}" for i in range(11, -1, -1)]
    assert x("GET", "/2/dm_events", params={"max_results": 0}).status_code == 400


def test_send_dm_both_ways(sandbox, brand, x):
    alice = sandbox.create_user("alice")
    r = x("POST", f"/2/dm_conversations/with/{alice['id']}/messages", json={"text": "Hi Alice"})
    assert r.status_code == 201
    data = r.json()["data"]
    assert set(data) == {"dm_conversation_id", "dm_event_id"}
    r2 = x("POST", f"/2/dm_conversations/{data['dm_conversation_id']}/messages", json={"text": "Again"})
    assert r2.status_code == 201 and r2.json()["data"]["dm_conversation_id"] == data["dm_conversation_id"]
    group = sandbox.create_group("alice", [brand["id"]])
    r3 = x("POST", f"/2/dm_conversations/{group['dm_conversation_id']}/messages", json={"text": "group hi"})
    assert r3.status_code == 201
    texts = [e["text"] for e in sandbox.conversations(alice["id"])["conversations"][0]["events"]]
    assert texts == ["Hi Alice", "Again"]
    assert x("POST", f"/2/dm_conversations/with/{alice['id']}/messages", json={}).status_code == 400
    sandbox.create_user("carol")
    other = sandbox.create_group("alice", ["carol"])
    assert x("POST", f"/2/dm_conversations/{other['dm_conversation_id']}/messages",
             json={"text": "x"}).status_code == 403
