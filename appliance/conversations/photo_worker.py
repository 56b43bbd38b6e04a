"""Drawing one picture again, in a child process the web process can afford to lose.

``attachments.clean_image`` starts ``python -m appliance.conversations.photo_worker LIMIT CPU_S``, writes the
file to its stdin and reads one JSON line back (``{"mime", "width", "height"}`` then the new
picture's bytes, or ``{"refused": key, "message"}``). Before reading anything the child caps its
own address space at LIMIT bytes and its CPU time at CPU_S seconds: a decoder that asks for more
memory gets a MemoryError (or the process dies), and only this child is lost.
"""

from __future__ import annotations

import json
import resource
import sys

from appliance.child_process import lower_priority
from appliance.conversations.attachments import AttachmentRefused, draw_image


def main(argv: list[str]) -> int:
    limit, cpu_s = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    lower_priority(5)  # a customer's decision has the CPU before a photo
    content = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        data, mime, width, height = draw_image(content)
    except AttachmentRefused as exc:
        out.write(json.dumps({"refused": exc.key, "message": str(exc)}).encode() + b"\n")
        return 0
    out.write(json.dumps({"mime": mime, "width": width, "height": height}).encode() + b"\n")
    out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
