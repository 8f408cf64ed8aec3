def test_connect_registers_the_authorized_role(harness):
    assert harness.connect("spk", "speaker", user_id="alice")["statusCode"] == 200
    stored = harness.runtime.connections.get("spk")
    assert stored.role.value == "speaker" and stored.user_id == "alice"


def test_connect_without_authorizer_role_is_refused(harness):
    from session_management.handlers import connect
    from tests.support.events import FakeLambdaContext, connect_event

    response = connect.handler.using(harness.runtime)(connect_event("x", None), FakeLambdaContext())
    assert response["statusCode"] == 403
    assert harness.runtime.connections.get("x") is None
