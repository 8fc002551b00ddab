"""Exit codes and the two kinds of failure the platform tells apart.

A `UserError` (bad parameters, a target column that does not exist, data the trainer cannot
learn from) ends the process with EXIT_USER_ERROR: the platform fails the run as `user_error`
and does not retry, because the same input would fail the same way. Anything else is a crash
(EXIT_CRASH or a signal) and is retried from the last checkpoint.
"""

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_USER_ERROR = 2


class UserError(Exception):
    """Bad input from the user: the message names the parameter or column at fault."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_parameter",
        parameter: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.parameter = parameter
        self.column = column
        self.row = row

    def to_json(self) -> dict:
        out: dict = {"event": "error", "kind": "user_error", "code": self.code, "message": self.message}
        if self.parameter is not None:
            out["parameter"] = self.parameter
        if self.column is not None:
            out["column"] = self.column
        if self.row is not None:
            out["row"] = self.row
        return out
