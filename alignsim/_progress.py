"""Progress reporting for calls that take more than a few seconds."""

from __future__ import annotations

from tqdm import tqdm


def track(items, progress, desc: str):
    """Iterate over ``items`` while reporting progress.

    ``progress=True`` shows a tqdm bar on stderr (silent where stderr is not a terminal, so logs stay clean);
    ``False`` or ``None`` shows nothing; a callable is called as ``progress(i, total)`` after item ``i`` (for
    scripts that report progress their own way).
    """
    if not (callable(progress) or progress is None or isinstance(progress, bool)):
        raise TypeError(f"progress must be True, False, None or a callable progress(i, total), got {progress!r}")
    items = list(items)
    if callable(progress):
        return _calling(items, progress)
    if progress:
        return iter(tqdm(items, desc=desc, disable=None, leave=False))
    return iter(items)


def _calling(items, progress):
    for i, item in enumerate(items):
        yield item
        progress(i, len(items))
