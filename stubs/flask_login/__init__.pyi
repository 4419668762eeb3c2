from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask

# A proxy to the signed-in user (or an anonymous one), of whatever class the host's
# user loader returns.
current_user: Any

def login_user(
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...

class LoginManager:
    login_view: str | None
    login_message: str
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: Callable[[str], Any]) -> Callable[[str], Any]: ...
