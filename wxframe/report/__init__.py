"""The account report: ``notebooks/account_report.ipynb`` executed on a store, as HTML.

The package holds what the report is made of: :mod:`wxframe.report.period` (the period
model the notebook computes its figures with), the HTML template (``report.html.j2``)
and this module's runner; the notebook itself stays in ``notebooks/`` beside the
tutorial, where a checkout's ``notebooks`` link shows both.

The notebook has a cell tagged ``parameters`` (papermill's convention); the values given
here go into a cell inserted after it, the notebook runs in a fresh kernel, and the result
is exported to one self-contained HTML file: code hidden, plots embedded as images.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wxframe.dates import DateLike, as_date
from wxframe.endpoints import LANGS
from wxframe.errors import ConfigurationError, EmptyPeriodError, ReportError

__all__ = [
    "NOTEBOOKS",
    "EmptyPeriodError",
    "ReportError",
    "execute_notebook",
    "render_portfolio",
    "render_report",
]

#: ``<html lang>`` of the report in each language.
_HTML_LANG = {"en": "en", "zh": "zh-CN"}

#: Where the bundled notebooks live (``notebooks/`` in a checkout links here).
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def render_report(
    store: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    account: str | None = None,
    begin: DateLike | None = None,
    end: DateLike | None = None,
    lang: str = "en",
    timeout: float = 600,
    notebook_out: str | os.PathLike[str] | None = None,
) -> Path:
    """Execute the account report on ``store`` and write it to ``out`` as HTML.

    ``begin``/``end`` default to the last 28 days the store holds; the report compares
    them with the same number of days before, when the store holds those in full.
    ``account`` is needed only when the store holds several; ``lang`` is ``"en"`` or
    ``"zh"`` (labels as the platform's own pages write them). ``notebook_out`` also keeps
    the executed notebook (``.ipynb``).

    A period of which the store holds no day is refused before the notebook runs
    (:class:`~wxframe.EmptyPeriodError`, naming what the store holds); a cell that raises
    gives a :class:`~wxframe.ReportError` whose message is that error's one line.

    Examples
    --------
    >>> import tempfile, wxframe
    >>> from wxframe.datasets import open_demo_store
    >>> try:
    ...     render_report(open_demo_store().root, tempfile.mkdtemp() + "/r.html", end="2030-01-01")
    ... except wxframe.EmptyPeriodError as exc:
    ...     print(str(exc)[:64])
    the store holds nothing of 2029-12-05..2030-01-01 for wx5im00000
    """
    if lang not in LANGS:  # the registry's display languages (None, the codes, is no report)
        raise ConfigurationError(f"lang={lang!r} is not allowed; use 'en' or 'zh'")
    from wxframe.report.period import Period
    from wxframe.store import Store

    store_ = Store.open(store)  # a store, or one line naming what is there instead
    root = store_.root  # a local path, or an s3:// URL the kernel opens as it is
    account = store_.pick_account(account)  # before a kernel starts: which account, or why not
    b = as_date(begin, "begin") if begin is not None else None
    e = as_date(end, "end") if end is not None else None
    if b and e and b > e:
        raise ConfigurationError(f"begin={b} is after end={e}: begin must be on or before end")
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ConfigurationError(f"out={str(target)!r} must be an .html file")
    period = Period(store_, b, e, account=account)  # the defaults the notebook would take
    period.require_data()
    params = {
        "store_dir": str(root.resolve()) if isinstance(root, Path) else root,
        "account": account,
        "begin": period.begin.isoformat(),
        "end": period.end.isoformat(),
        "lang": lang,
    }
    nb = execute_notebook(NOTEBOOKS / "account_report.ipynb", params, timeout=timeout)
    # What a browser tab and a mail preview show, and the language a reader's browser
    # (its fonts, its translation offer, a screen reader) takes the page to be in.
    nb.metadata["title"] = f"{account} · {period.begin}..{period.end} · " + (
        "wxframe 数据报告" if lang == "zh" else "wxframe report"
    )
    nb.metadata["wxframe_html_lang"] = _HTML_LANG[lang]
    target.parent.mkdir(parents=True, exist_ok=True)
    if notebook_out is not None:
        import nbformat

        with open(notebook_out, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
    html = _to_html(nb)
    target.write_text(html, encoding="utf-8")
    return target


def execute_notebook(
    path: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
    *,
    timeout: float = 600,
    cwd: str | os.PathLike[str] | None = None,
) -> Any:
    """Run the notebook at ``path`` in a fresh kernel, with ``parameters`` injected.

    Returns the executed ``nbformat`` notebook; raises :class:`ReportError` naming the
    cell and the exception if a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(os.fspath(path), as_version=4)
    if parameters:
        _inject(nb, parameters)
    workdir = os.fspath(cwd) if cwd is not None else os.fspath(Path(path).parent)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": workdir}},
    )
    # The kernel draws inline PNGs whatever backend the caller's environment names
    # (CI sets MPLBACKEND=Agg, which would leave the report without images).
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    try:
        # The kernel's own log lines (a TCP-transport notice at start) are not the
        # report's business: cell errors come back through the messaging protocol.
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except CellExecutionError as exc:
        raise ReportError(f"{Path(path).name} failed: {_one_line(exc)}") from None
    return nb


def _inject(nb: Any, parameters: dict[str, Any]) -> None:
    """Insert the parameter values as a cell after the one tagged ``parameters``."""
    import nbformat

    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    if not tagged:
        raise ConfigurationError("the notebook has no cell tagged 'parameters'")
    source = "# Injected parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(tagged[0] + 1, cell)


def _to_html(nb: Any) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        template_file=str(Path(__file__).resolve().parent / "report.html.j2"),
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    html, _ = exporter.from_notebook_node(nb)
    return str(html)


#: The colour codes IPython puts in a traceback's lines.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(exc: Exception) -> str:
    """The cell's error as one line: its message alone for one of wxframe's errors (they
    say what to do), ``Name: message`` for any other; no colour codes, no traceback."""
    from wxframe import errors

    name = _ANSI.sub("", str(getattr(exc, "ename", "") or ""))
    value = _ANSI.sub("", str(getattr(exc, "evalue", "") or ""))
    if not name:  # not an error from the kernel: nbclient's own message
        lines = [line for line in _ANSI.sub("", str(exc)).splitlines() if line.strip()]
        return lines[-1].strip() if lines else type(exc).__name__
    text = " ".join(line.strip() for line in value.splitlines() if line.strip())
    wxframe_error = isinstance(getattr(errors, name, None), type) and issubclass(
        getattr(errors, name), errors.WxframeError
    )
    return text if wxframe_error and text else f"{name}: {text}" if text else name


def render_portfolio(
    store: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    accounts: Sequence[str] | None = None,
    begin: DateLike | None = None,
    end: DateLike | None = None,
    lang: str = "en",
    links: str | None = "{account}.html",
    timeout: float = 600,
) -> Path:
    """Execute the portfolio report (``notebooks/portfolio_report.ipynb``) on ``store``:
    one HTML file comparing ``accounts`` (default: every account in the store).

    It ranks the accounts by :func:`~wxframe.account_index`, draws the index week by
    week as a heat map (one row an account, readable at 50), lists each account's
    headline numbers with their change and the accounts that moved most. Each name
    links to ``links`` with ``{account}`` filled in (default ``"{account}.html"``:
    each account's own report beside this file, as ``wxframe report --accounts ...
    --each`` and ``wxframe demo --accounts N`` render them; None: no links).

    Bad input (an account not in the store, ``begin`` after ``end``, a period of which
    the store holds nothing) is refused before the notebook runs, as by
    :func:`~wxframe.compare_accounts`.
    """
    if lang not in LANGS:
        raise ConfigurationError(f"lang={lang!r} is not allowed; use 'en' or 'zh'")
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ConfigurationError(f"out={str(target)!r} must be an .html file")
    if links is not None and "{account}" not in links:
        raise ConfigurationError(f"links={links!r} must hold '{{account}}' (or be None)")
    from wxframe.analysis import compare_accounts
    from wxframe.store import Store

    root = Path(store)
    table = compare_accounts(Store.open(root), accounts, begin=begin, end=end)  # checks first
    b, e = table.attrs["begin"], table.attrs["end"]
    params = {
        "store_dir": str(root.resolve()),
        "accounts": sorted(table.index),
        "begin": b.isoformat(),
        "end": e.isoformat(),
        "lang": lang,
        "links": links,
    }
    nb = execute_notebook(NOTEBOOKS / "portfolio_report.ipynb", params, timeout=timeout)
    nb.metadata["title"] = f"{len(table)} accounts · {b}..{e} · " + (
        "wxframe 多账号报告" if lang == "zh" else "wxframe portfolio report"
    )
    nb.metadata["wxframe_html_lang"] = _HTML_LANG[lang]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_to_html(nb), encoding="utf-8")
    return target
