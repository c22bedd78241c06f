from ninja import Schema


class ErrorOut(Schema):
    detail: str
    code: str
    field: str | None = None
