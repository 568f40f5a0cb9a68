"""The one exception type whose message is meant for the user.

Why: the UI must never show a traceback.  Core code raises ``UserError`` with
a locale key; the UI layer turns it into a message in the user's language, and
treats any other exception as a bug (logged, shown as a generic message).
"""

from __future__ import annotations


class UserError(ValueError):
    """An input problem the user can fix; ``str()`` is the Spanish message."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("es"))

    def message(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: the current language, see ``locales.use_lang``)."""
        from lm_demo.locales import t

        return t(self.key, lang, **self.params)
