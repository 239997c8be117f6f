"""The one exception type people see: its message is a single line saying what went wrong and what to do."""


class ZhengceError(Exception):
    pass
