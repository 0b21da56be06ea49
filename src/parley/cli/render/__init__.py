"""Showing a turn in a terminal or a pipe: displays that consume wire notifications.

base.py      what a display is (notify / finish / note / close), fan-out, broken pipes
describe.py  the words for tool calls, outcomes, usage, shared by both displays
plain.py     raw reply, plain activity lines, NDJSON: for pipes and logs
terminal.py  rich: Markdown, spinners, diffs, colour (imported only by commands that draw)
"""
