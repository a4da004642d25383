"""``smi-spec replay LOG... --workers N [--scheduler ADDRESS]``: a fleet log replayed on Dask
(docs/replay.md, "Fleet logs").

The driver reads each log once and deals its lines into partitions by installation
(installation k to partition (k - 1) mod P, found by a pattern on the line; a line the
pattern does not place, such as a fleet-wide CPL change, goes to every partition, in log
order). Each partition is replayed by :func:`checker.fleet_replay.replay_lines` on a Dask
worker, which checks each line again, and the partial results are merged
(:func:`checker.fleet_replay.merge`): the same report whatever the number of partitions.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from checker.fleet_replay import merge, parse_header, replay_lines
from model.message_log import read_lines

#: The installation a line belongs to: its target's number, or a scoped CPL change's.
_OWNER = re.compile(r'"target": "[^"]*-(\d+)"|"installation": (\d+)')


def partitions(lines: list[tuple[int, str]], parts: int) -> list[str]:
    """The lines of each partition, in log order, as one text each (``number TAB line``, a
    line a row: JSON Lines hold no raw newline). One string travels to a worker in one
    piece; a list of a million tuples would be serialised element by element."""
    dealt: list[list[str]] = [[] for _ in range(parts)]
    for number, text in lines:
        row = f"{number}\t{text.rstrip()}"
        found = _OWNER.search(text)
        if found is None:
            for part in dealt:
                part.append(row)
        else:
            dealt[(int(found.group(1) or found.group(2)) - 1) % parts].append(row)
    return ["\n".join(part) for part in dealt]


def replay_partition(
    log: str, variant: str | None, header: str, rows: str, part: int, parts: int
) -> dict[str, Any]:
    """On a worker: one partition's rows replayed."""
    lines = []
    for row in rows.split("\n") if rows else ():
        number, _, text = row.partition("\t")
        lines.append((int(number), text))
    return replay_lines(log, variant, header, lines, part, parts)


def replay_log(log: str, variant: str | None, client: Any, parts: int) -> dict[str, Any]:
    """One fleet log replayed in ``parts`` partitions on the Dask ``client``."""
    lines = list(read_lines(log))
    if not lines:
        from checker.fleet_replay import FleetLogError

        raise FleetLogError(f"{log}: empty log")
    header, events = lines[0][1], lines[1:]
    parse_header(log, header)  # a bad header is refused here, before any work is sent
    dealt = partitions(events, parts)
    del events, lines
    shipped = client.scatter(dealt)  # the data travels beside the task graph, not in it
    futures = [
        client.submit(replay_partition, log, variant, header, shipped[p], p, parts, pure=False)
        for p in range(parts)
    ]
    results = client.gather(futures)
    return {"log": log, **merge(results)}


def replay_fleet(
    logs: list[str], variant: str | None, workers: int, scheduler: str | None
) -> list[dict[str, Any]]:
    """Every log's report, on a LocalCluster of ``workers`` processes or at ``scheduler``."""
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            parts = max(1, sum(client.nthreads().values()))
            return [replay_log(log, variant, client, parts) for log in logs]
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never a clash with another cluster
            # A bad line is reported once, as one line, by smi-spec: not logged by Dask.
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        return [replay_log(log, variant, client, workers) for log in logs]
