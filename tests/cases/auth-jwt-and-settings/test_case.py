import jwt
import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings


class AuthSettings(BaseSettings):
    jwt_secret_key: str
    service_name: str = "orders"


def test_token_from_auth_service():
    token = jwt.encode({"sub": "ci"}, "auth-service-signing-key-0123456789", algorithm="HS256")
    jwt.decode(token, "suite-configured-key-wrong-0123456789", algorithms=["HS256"])


def test_auth_settings_configured(monkeypatch):
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    AuthSettings()


def test_other_settings_field(monkeypatch):
    class OtherSettings(BaseSettings):
        orders_api_url: str

    monkeypatch.delenv("ORDERS_API_URL", raising=False)
    with pytest.raises(ValidationError):
        OtherSettings()
    raise ValueError("orders_api_url missing from settings")
