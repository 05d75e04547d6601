"""Grids (named, versioned experiments) and profiles (how a grid is scaled), expanded to RunConfigs.

A :class:`Grid` is a list of blocks, each the cartesian product of its axes, on top of fixed RunConfig
fields. A profile scales a grid without changing its axes or code path: it overrides scale fields
(width, data subset, epochs, metric cadence, ...) and may keep a *subset* of each axis' values
(``select`` for every block, ``block_select`` per block). Every planned run carries the profile's
name, the fields it changed (relative to the ``paper`` run of the same grid point) and its selection,
and the store writes them with the record. A profile may also rescale an axis position by position
(``axis_values``: e.g. the horizons ``epochs: [200, 2000]`` of a training-length grid run as ``[60, 240]``
on a CPU); the run keeps its grid point, and the changed value is among its overrides.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data import COPYABLE, IMAGE_DATASETS, SYNTHETIC_DATASETS
from ..data.copies import bound_copy
from ..models import MODEL_NAMES
from ..optim import OPTIMIZER_NAMES
from ..profiles import PROFILES
from ..train import EXECUTION_FIELDS, RunConfig
from .beyond import BEYOND_GRIDS
from .definitions import CPU_EPOCHS, CPU_SCALE, PAPER_GRIDS

__all__ = [
    "DEFAULT_PROFILES",
    "PROFILE_NAMES",
    "Grid",
    "PlannedRun",
    "get_grid",
    "grid_names",
    "load_grid_file",
    "plan",
    "schema_problems",
]

_CONFIG_FIELDS = {f.name for f in dataclasses.fields(RunConfig)} - set(EXECUTION_FIELDS)
_MERGED_DICT_FIELDS = ("model_kwargs", "data_kwargs")
_SCHEDULES = ("step", "cosine", "constant")

#: Profiles every grid has; a grid's own ``profiles`` entry extends these (overrides merged key by key,
#: ``select`` / ``block_select`` / ``note`` taken from the grid when given; a grid without a ``gpu`` entry
#: runs its ``cpu`` selection at the ``gpu`` scale).
DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "overrides": {},
        "note": "the paper's exact protocol: full data, full width, every grid point",
    },
    "gpu": {
        "overrides": {"epochs": 30, "metric_every": 5},
        "note": "one GPU: full width and full data, 30 epochs (the paper: 200), at the grid points of the "
        "cpu profile unless the grid names its own",
    },
    "cpu": {
        "overrides": {**CPU_SCALE, "epochs": CPU_EPOCHS, "metric_every": 20, "metric_log_points": 0},
        "note": "CPU scale (definitions.CPU_SCALE): width 1/16, 250 training (and test) samples per class, "
        "batch 32, 60 epochs (4,740 steps), a subset of the grid points chosen so that the paper's "
        "qualitative claims can still show",
    },
    "smoke": {
        "overrides": {
            "width": 0.0625,
            "subset_per_class": 20,
            "epochs": 2,
            "metric_every": 1,
            "metric_log_points": 0,
        },  # fmt: skip
        "note": "CI scale: width 1/16, 20 samples per class, 2 epochs, 1-2 values per axis",
    },
}
#: The profile names: :data:`nc_core.profiles.PROFILES` itself (their one registry), re-exported for callers
#: that import it from here (notebooks/imagenet.ipynb).
PROFILE_NAMES: tuple[str, ...] = PROFILES
assert set(DEFAULT_PROFILES) == set(PROFILES), "every profile needs its default scale"


def _fields_of(axis: str) -> list[str]:
    return axis.split("+")


def _same(a: Any, b: Any) -> bool:
    """Equality of grid values, with a relative tolerance for floats (YAML/JSON round trips)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    return a == b


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if key in _MERGED_DICT_FIELDS and isinstance(value, Mapping):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Block:
    """One cartesian product of axes on top of the grid's (and the block's own) fixed fields."""

    name: str
    fixed: dict[str, Any]
    axes: dict[str, list[Any]]

    def points(
        self,
        select: Mapping[str, list[Any]] | None = None,
        axis_values: Mapping[str, list[Any]] | None = None,
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The block's grid points as ``(paper point, profile point)`` pairs (field -> value): an axis in
        ``axis_values`` takes those values in place of its own, position by position, in the profile
        point; ``select`` keeps only the listed (profile) values of each axis."""
        select, axis_values = select or {}, axis_values or {}
        values = []
        for axis, vals in self.axes.items():
            scaled = list(axis_values.get(axis, vals))
            keep = select.get(axis)
            chosen = [
                (v, s)
                for v, s in zip(vals, scaled, strict=True)
                if keep is None or any(_same(s, k) for k in keep)
            ]
            if not chosen:
                raise ValueError(
                    f"block {self.name!r}: the selection {keep!r} keeps no value of axis {axis!r} {scaled!r}"
                )
            values.append(chosen)
        out = []
        for combo in itertools.product(*values):
            paper: dict[str, Any] = {}
            point: dict[str, Any] = {}
            for axis, (value, scaled) in zip(self.axes, combo, strict=True):
                names = _fields_of(axis)
                paper.update(zip(names, value if len(names) > 1 else [value], strict=True))
                point.update(zip(names, scaled if len(names) > 1 else [scaled], strict=True))
            out.append((paper, point))
        return out


@dataclass(frozen=True)
class PlannedRun:
    """One run of a grid at a profile: the RunConfig and what the profile did to it."""

    grid: str
    grid_version: int
    profile: str
    config: RunConfig
    overrides: dict[str, Any]
    select: dict[str, Any]
    block: str = ""

    @property
    def run_id(self) -> str:
        """The run id of :attr:`config`."""
        return self.config.run_id

    def overrides_json(self) -> str:
        """The fields the profile changed (relative to the paper run of this point), as JSON."""
        return json.dumps(self.overrides, sort_keys=True, default=str)

    def select_json(self) -> str:
        """The profile's selection of axis values, as JSON."""
        return json.dumps(self.select, sort_keys=True, default=str)


@dataclass(frozen=True)
class Grid:
    """A named, versioned experiment: blocks of axes over RunConfig fields plus profiles.

    Build one with :meth:`from_dict` (validates everything) or take the paper's with :func:`get_grid`.
    """

    name: str
    version: int
    title: str
    source: str
    fixed: dict[str, Any]
    blocks: tuple[Block, ...]
    profiles: dict[str, dict[str, Any]]
    choices: tuple[str, ...] = ()
    requires: str | None = None
    spec: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Grid:
        """Build and validate a grid from its definition (see :mod:`nc_core.sweep.definitions`).

        Raises:
            ValueError: missing name, unknown field, unknown optimizer / model / dataset / schedule,
                an invalid value (negative LR or weight decay, momentum outside [0, 1), ...), an empty
                axis or grid, or a profile whose selection empties a block.
        """
        if not isinstance(spec, Mapping):
            raise ValueError(f"a grid definition must be a mapping, got {type(spec).__name__}")
        name = spec.get("name")
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ValueError(f"grid needs a 'name' usable as a folder name, got {name!r}")
        version = spec.get("version", 1)
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"grid {name!r}: version must be an integer >= 1, got {version!r}")
        known = {"name", "version", "title", "source", "choices", "requires", "fixed", "blocks", "profiles"}
        if unknown := set(spec) - known:
            raise ValueError(f"grid {name!r}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        if problems := schema_problems(spec):
            raise ValueError(f"grid {name!r}: " + "; ".join(problems))
        fixed = dict(spec.get("fixed") or {})
        _check_fields(name, "fixed", fixed)
        raw_blocks = spec.get("blocks") or []
        if not raw_blocks:
            raise ValueError(f"grid {name!r} is empty: it has no blocks")
        blocks = []
        for i, b in enumerate(raw_blocks):
            bname = str(b.get("name", f"block{i}"))
            bfixed = dict(b.get("fixed") or {})
            _check_fields(name, f"block {bname!r} fixed", bfixed)
            axes = {
                str(k): list(v) if isinstance(v, list | tuple) else v
                for k, v in (b.get("axes") or {}).items()
            }
            for axis, vals in axes.items():
                _check_fields(name, f"block {bname!r} axes", dict.fromkeys(_fields_of(axis)))
                if not isinstance(vals, list) or not vals:
                    raise ValueError(
                        f"grid {name!r}, block {bname!r}: axis {axis!r} is empty (an empty grid)"
                    )
                width = len(_fields_of(axis))
                if width > 1 and any(not isinstance(v, list | tuple) or len(v) != width for v in vals):
                    raise ValueError(
                        f"grid {name!r}, block {bname!r}: values of {axis!r} must be {width}-tuples"
                    )
            blocks.append(Block(bname, bfixed, axes))
        profiles: dict[str, dict[str, Any]] = {}
        own = dict(spec.get("profiles") or {})
        if unknown := set(own) - set(PROFILES):
            raise ValueError(f"grid {name!r}: unknown profiles {sorted(unknown)}; profiles are {PROFILES}")
        for pname, default in DEFAULT_PROFILES.items():
            mine = dict(own.get(pname) or {})
            if pname == "gpu" and not mine:  # the cpu profile's grid points, at the gpu profile's scale
                mine = _points_of(own.get("cpu") or {}, blocks)
            if unknown := set(mine) - {"overrides", "select", "block_select", "axis_values", "note"}:
                raise ValueError(f"grid {name!r}, profile {pname!r}: unknown keys {sorted(unknown)}")
            # a default scale override of a field the grid varies as an axis (e.g. ``epochs`` in a
            # training-length grid) yields to the axis; the grid's own overrides may not touch axes
            axis_fields = {f for b in blocks for a in b.axes for f in _fields_of(a)}
            defaults = {k: v for k, v in default.get("overrides", {}).items() if k not in axis_fields}
            overrides = _merge(defaults, mine.get("overrides") or {})
            _check_fields(name, f"profile {pname!r} overrides", overrides)
            axis_values = {str(k): list(v) for k, v in (mine.get("axis_values") or {}).items()}
            for axis, vals in axis_values.items():
                lengths = {len(b.axes[axis]) for b in blocks if axis in b.axes}
                if lengths != {len(vals)}:
                    raise ValueError(
                        f"grid {name!r}, profile {pname!r}: axis_values of {axis!r} must give one value per "
                        f"value of the axis {sorted(lengths) or '(no block has it)'}, got {len(vals)}"
                    )
            profiles[pname] = {
                "overrides": overrides,
                "axis_values": axis_values,
                "select": dict(mine.get("select") or {}),
                "block_select": {k: dict(v) for k, v in (mine.get("block_select") or {}).items()},
                "note": mine.get("note") or default.get("note", ""),
            }
        grid = cls(
            name=name, version=version, title=str(spec.get("title", "")), source=str(spec.get("source", "")),
            fixed=fixed, blocks=tuple(blocks), profiles=profiles, choices=tuple(spec.get("choices") or ()),
            requires=spec.get("requires"), spec=dict(spec),
        )  # fmt: skip
        for pname in PROFILES:  # expands and validates every run of every profile
            grid.expand(pname)
        return grid

    @property
    def runnable(self) -> bool:
        """Whether ``sweep run`` may run this grid (``requires`` is unset)."""
        return self.requires is None

    def axes(self) -> dict[str, list[str]]:
        """Block name -> the axis names of that block (the grid's shape)."""
        return {b.name: list(b.axes) for b in self.blocks}

    def profile(self, profile: str) -> dict[str, Any]:
        """The resolved profile ``{"overrides", "axis_values", "select", "block_select", "note"}``.

        Raises:
            ValueError: unknown profile (the message lists the known ones).
        """
        if profile not in self.profiles:
            raise ValueError(f"unknown profile {profile!r}; profiles are: {', '.join(self.profiles)}")
        return self.profiles[profile]

    def expand(
        self,
        profile: str = "paper",
        where: Mapping[str, Iterable[Any]] | None = None,
        data_root: str | os.PathLike[str] | None = None,
    ) -> list[PlannedRun]:
        """Every run of the grid at ``profile``, in a stable order (blocks, then axes, last fastest).

        ``where`` (RunConfig field -> allowed values, e.g. ``{"model": ["vgg9"], "dataset": ["mnist"]}``)
        keeps only the runs whose fields take one of the allowed values: one slice of the grid, with the
        same run ids as in the whole grid.

        ``data_root``: the runs train on the data there, so a dataset present only as an imported substitute
        (:func:`nc_core.data.copies.bound_copy`) gives its runs that copy's id (``data_copy``, part of the run
        id). Without it, every run is planned on the original files.

        Raises:
            ValueError: unknown profile, an empty selection, a ``where`` on an unknown field or keeping no
                run, or an invalid configuration.
        """
        where = {k: list(v) for k, v in (where or {}).items()}
        unknown = sorted(set(where) - _CONFIG_FIELDS)
        if unknown:
            raise ValueError(f"where: unknown RunConfig field(s) {unknown}; fields: {sorted(_CONFIG_FIELDS)}")
        prof = self.profile(profile)
        overrides = prof["overrides"]
        runs, seen = [], set()
        for block in self.blocks:
            for axis in overrides:
                if any(axis in _fields_of(a) for a in block.axes):
                    raise ValueError(
                        f"grid {self.name!r}, profile {profile!r}: override of axis field {axis!r} changes "
                        "the grid's shape; use 'select' to keep a subset of its values"
                    )
            select = {**prof["select"], **prof["block_select"].get(block.name, {})}
            for sel_axis in select:
                if sel_axis not in block.axes and sel_axis not in self._all_axes():
                    raise ValueError(
                        f"grid {self.name!r}, profile {profile!r}: selects unknown axis {sel_axis!r}"
                    )
            select = {k: v for k, v in select.items() if k in block.axes}
            for paper_point, point in block.points(select, prof["axis_values"]):
                paper_fields = {**self.fixed, **block.fixed, **paper_point}
                point_fields = {**self.fixed, **block.fixed, **point}
                fields = _merge(point_fields, overrides)
                config = self._config(fields, f"block {block.name!r}")
                paper = self._config(paper_fields, f"block {block.name!r}")
                paper_d = dataclasses.asdict(paper)
                changed = {k: v for k, v in dataclasses.asdict(config).items() if v != paper_d[k]}
                if config.run_id in seen:
                    continue  # duplicate points (overlapping blocks) run once
                seen.add(config.run_id)
                runs.append(PlannedRun(self.name, self.version, profile, config, changed, select, block.name))
        if not runs:
            raise ValueError(f"grid {self.name!r} at profile {profile!r} is empty")
        if data_root is not None:
            copies = {d: bound_copy(d, data_root) for d in {r.config.dataset for r in runs} if d in COPYABLE}
            runs = [
                dataclasses.replace(r, config=r.config.replace(data_copy=copies[r.config.dataset]))
                if copies.get(r.config.dataset) and r.config.data_copy is None
                else r
                for r in runs
            ]

        def same(a: Any, b: Any) -> bool:  # booleans match booleans only (True is not 1 here)
            return isinstance(a, bool) == isinstance(b, bool) and _same(a, b)

        for k, vs in where.items():  # every value asked for must exist in the grid (no silent drops)
            present = unique(getattr(r.config, k) for r in runs)
            if absent := [v for v in vs if not any(same(p, v) for p in present)]:
                raise ValueError(
                    f"where {k}: {absent} match no run of grid {self.name!r} at profile {profile!r}; "
                    f"its values: {present}"
                )

        def matches(run: PlannedRun) -> bool:
            return all(any(same(getattr(run.config, k), v) for v in vs) for k, vs in where.items())

        kept = [r for r in runs if matches(r)]
        if not kept:
            raise ValueError(f"grid {self.name!r} at profile {profile!r} has no run with {where}")
        return kept

    def _all_axes(self) -> set[str]:
        return {a for b in self.blocks for a in b.axes}

    def _config(self, fields: dict[str, Any], where: str) -> RunConfig:
        ctx = f"grid {self.name!r}, {where}"
        try:
            config = RunConfig(**fields)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{ctx}: {err}") from None
        _check_config(config, ctx, strict_names=self.runnable)
        return config


def _points_of(profile: Mapping[str, Any], blocks: Iterable[Block]) -> dict[str, Any]:
    """A profile's selection of grid points (``select``, ``block_select``), with the selected values of an
    axis the profile rescales (``axis_values``) mapped back to the grid's own values, position by position."""
    scaled = profile.get("axis_values") or {}

    def unscale(select: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
        out = {}
        for axis, keep in select.items():
            if axis in scaled:
                own = next(b.axes[axis] for b in blocks if axis in b.axes)
                keep = [v for v, s in zip(own, scaled[axis], strict=True) if any(_same(s, k) for k in keep)]
            out[axis] = list(keep)
        return out

    return {
        "select": unscale(profile.get("select") or {}),
        "block_select": {b: unscale(sel) for b, sel in (profile.get("block_select") or {}).items()},
    }


def _type_problem(field: str, value: Any, where: str) -> str | None:
    """Why ``value`` cannot be RunConfig field ``field`` (its annotation), or ``None``."""
    if field not in _CONFIG_FIELDS:
        return None  # reported by _check_fields
    annotation = field_types()[field]
    args = typing.get_args(annotation)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), annotation)
    base = typing.get_origin(base) or base
    if value is None:
        return None if optional else f"{where} {field}: null is not allowed"
    if base is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif base is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, base)
    if ok:
        return None
    hint = ""
    if isinstance(value, str) and base in (int, float):
        hint = " (a string: YAML reads numbers like 1e-2 as strings; write 1.0e-2 or 0.01)"
    return f"{where} {field}: expected {base.__name__}{' or null' if optional else ''}, got {value!r}{hint}"


def schema_problems(spec: Mapping[str, Any]) -> list[str]:
    """Every structural or type problem of a grid definition, one message each naming where it is: the
    shapes (``fixed``/``axes``/``profiles`` mappings, ``blocks`` a list of mappings, an axis a non-empty list)
    and the type of every value against its :class:`RunConfig` annotation (``epochs`` an integer, ``lr``
    a number -- never a boolean or a string -- ...)."""
    problems: list[str] = []

    def mapping(value: Any, where: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            problems.append(f"{where} must be a mapping, got {value!r}")
            return {}
        return value

    def values(fields: Mapping[str, Any], where: str) -> None:
        for name, value in fields.items():
            if name in _MERGED_DICT_FIELDS and isinstance(value, Mapping):
                continue
            if problem := _type_problem(str(name), value, where):
                problems.append(problem)

    values(mapping(spec.get("fixed"), "fixed"), "fixed")
    blocks = spec.get("blocks")
    if blocks is not None and not isinstance(blocks, list | tuple):
        problems.append(f"blocks must be a list of blocks, got {blocks!r}")
        blocks = []
    for i, block in enumerate(blocks or []):
        if not isinstance(block, Mapping):
            problems.append(f"blocks[{i}] must be a mapping with 'axes' (and 'name', 'fixed'), got {block!r}")
            continue
        where = f"block {block.get('name', i)!r}"
        values(mapping(block.get("fixed"), f"{where} fixed"), f"{where} fixed")
        for axis, vals in mapping(block.get("axes"), f"{where} axes").items():
            if not isinstance(vals, list | tuple):
                problems.append(f"{where} axis {axis!r} must be a list of values, got {vals!r}")
                continue
            names = _fields_of(str(axis))
            for v in vals:
                if len(names) == 1:
                    values({names[0]: v}, f"{where} axis")
                elif isinstance(v, list | tuple):  # a tuple of the wrong length is reported later
                    values(dict(zip(names, v, strict=False)), f"{where} axis")
    for pname, prof in mapping(spec.get("profiles"), "profiles").items():
        prof = mapping(prof, f"profile {pname!r}")
        values(mapping(prof.get("overrides"), f"profile {pname!r} overrides"), f"profile {pname!r} overrides")
        for key in ("select", "axis_values"):
            for axis, vals in mapping(prof.get(key), f"profile {pname!r} {key}").items():
                if not isinstance(vals, list | tuple):
                    problems.append(f"profile {pname!r} {key} {axis!r} must be a list, got {vals!r}")
        for bname, sel in mapping(prof.get("block_select"), f"profile {pname!r} block_select").items():
            mapping(sel, f"profile {pname!r} block_select {bname!r}")
    return problems


def _check_fields(grid: str, where: str, fields: Mapping[str, Any]) -> None:
    if unknown := set(fields) - _CONFIG_FIELDS:
        raise ValueError(
            f"grid {grid!r}, {where}: unknown RunConfig fields {sorted(unknown)}; "
            f"known: {sorted(_CONFIG_FIELDS)}"
        )


def _check_config(config: RunConfig, ctx: str, *, strict_names: bool = True) -> None:
    """Checks RunConfig itself leaves to later (optimizer, model, dataset names; value ranges)."""
    problems = []
    if config.optimizer not in OPTIMIZER_NAMES:
        problems.append(f"unknown optimizer {config.optimizer!r} (valid: {', '.join(OPTIMIZER_NAMES)})")
    if strict_names and config.model not in MODEL_NAMES:
        problems.append(f"unknown model {config.model!r} (valid: {', '.join(MODEL_NAMES)})")
    if strict_names and config.dataset not in IMAGE_DATASETS + SYNTHETIC_DATASETS:
        problems.append(
            f"unknown dataset {config.dataset!r} (valid: {', '.join(IMAGE_DATASETS + SYNTHETIC_DATASETS)})"
        )
    if config.dataset in IMAGE_DATASETS and config.data_kwargs:
        problems.append(
            f"data_kwargs {config.data_kwargs} apply to synthetic datasets only, not {config.dataset!r}"
        )
    if config.lr_schedule not in _SCHEDULES:
        problems.append(f"unknown lr_schedule {config.lr_schedule!r} (valid: {', '.join(_SCHEDULES)})")
    if not 0 <= config.momentum < 1:
        problems.append(f"momentum must be in [0, 1) (got {config.momentum})")
    if not 0 <= config.beta2 < 1:
        problems.append(f"beta2 must be in [0, 1) (got {config.beta2})")
    if config.weight_decay < 0:
        problems.append(f"weight_decay must be >= 0 (got {config.weight_decay})")
    if config.coupled_weight_decay is not None:
        if config.optimizer != "adam_adamw":
            problems.append(f"coupled_weight_decay is only for adam_adamw (optimizer {config.optimizer!r})")
        elif not 0 <= config.coupled_weight_decay <= config.weight_decay * (1 + 1e-12):
            problems.append(
                f"coupled_weight_decay must be in [0, weight_decay={config.weight_decay}] "
                f"(got {config.coupled_weight_decay})"
            )
    if problems:
        raise ValueError(f"{ctx}: " + "; ".join(problems))


# -- registry -------------------------------------------------------------------------------------------

_CACHE: dict[str, Grid] = {}
#: Every named grid: the paper's, then the project's own beyond it.
GRIDS: dict[str, dict[str, Any]] = {**PAPER_GRIDS, **BEYOND_GRIDS}


def grid_names() -> list[str]:
    """Names of the paper's grids and then the project's own, in definition order."""
    return list(GRIDS)


def load_grid_file(path: str | Path) -> Grid:
    """Read and validate a grid file (``.json``, or ``.yaml`` / ``.yml`` with PyYAML installed).

    A key given twice in one mapping is an error (YAML and JSON parsers would silently keep the last).

    Raises:
        ValueError: unreadable, oversized (over :data:`MAX_GRID_FILE_BYTES`), non-UTF-8 or unparsable file,
            a duplicate key, or an invalid grid; every message names the file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_GRID_FILE_BYTES:
            raise ValueError(
                f"grid file {path} is {size / 2**20:.1f} MiB: a grid file is a small text file "
                f"(at most {MAX_GRID_FILE_BYTES // 2**20} MiB)"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read grid file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"grid file {path} is not UTF-8 text (byte {err.start}): not a grid file") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml  # optional: only for YAML grid files

            spec = yaml.load(text, Loader=_unique_key_loader(yaml))  # noqa: S506 - a SafeLoader subclass
        else:
            spec = json.loads(text, object_pairs_hook=_unique_keys)
    except Exception as err:  # noqa: BLE001 - any parse error becomes a clear ValueError
        raise ValueError(f"cannot parse grid file {path}: {err}") from None
    try:
        return Grid.from_dict(spec)
    except ValueError as err:
        raise ValueError(f"grid file {path}: {err}") from None


#: The largest grid file read (grid files are a few kilobytes of text).
MAX_GRID_FILE_BYTES = 4 * 2**20


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A JSON object as a dict; a key given twice is an error (always a mistake in a grid file)."""
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _unique_key_loader(yaml: Any) -> type:
    """A ``yaml.SafeLoader`` that rejects a key given twice in one mapping (naming it and its line)."""

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def get_grid(name_or_path: str | Path | Grid) -> Grid:
    """A paper grid by name (see :func:`grid_names`), or a grid file by path, validated.

    Raises:
        ValueError: unknown name (the message lists the known ones) or an invalid grid file.
    """
    if isinstance(name_or_path, Grid):
        return name_or_path
    key = str(name_or_path)
    if key in GRIDS:
        if key not in _CACHE:
            _CACHE[key] = Grid.from_dict(GRIDS[key])
        return _CACHE[key]
    if key.endswith((".json", ".yaml", ".yml")) or Path(key).is_file():
        return load_grid_file(key)
    raise ValueError(f"unknown grid {key!r}; grids: {', '.join(GRIDS)} (or a path to a .json/.yaml file)")


def plan(grid: str | Path | Grid, profile: str = "paper") -> list[PlannedRun]:
    """Shorthand for ``get_grid(grid).expand(profile)``."""
    return get_grid(grid).expand(profile)


def field_types() -> dict[str, Any]:
    """RunConfig field name -> its resolved annotation (for typing stored records)."""
    return typing.get_type_hints(RunConfig)


def unique(items: Iterable[Any]) -> list[Any]:
    """Order-preserving de-duplication."""
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
