"""``ann.report(net, filename)``: a description of a network (populations, neuron and synapse
models with their equations, projections, parameters, monitors, constants), in Markdown for a
``.md`` file and LaTeX otherwise, in the spirit of Nordlie et al. (2009)."""
from __future__ import annotations

import datetime
import os

import numpy as np

from anncompiler.errors import InvalidTypeError, InvalidValueError


def _lines(text) -> list[str]:
    """The lines of a definition field (a string, a list of strings or objects, a dict)."""
    if text is None or text == "":
        return []
    if isinstance(text, dict):
        return [f"{k} = {getattr(v, 'value', v)}" for k, v in text.items()]
    if isinstance(text, (list, tuple)):
        return [line for item in text for line in _lines(item if isinstance(item, str) else str(item))]
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def _value(value) -> str:
    """A parameter value: a number, or the range of per-neuron values."""
    if isinstance(value, list) and value and all(np.ndim(v) > 0 for v in value):
        value = np.concatenate([np.asarray(v, dtype=float).reshape(-1) for v in value])  # one list per dendrite
    arr = np.asarray(value)
    if arr.ndim == 0 or arr.size == 1:
        v = arr.reshape(-1)[0].item() if arr.size else value
        return f"{v:.6g}" if isinstance(v, float) else str(v)
    flat = arr.reshape(-1).astype(float)
    if np.all(flat == flat[0]):
        return f"{flat[0]:.6g}"
    return f"{flat.min():.6g} to {flat.max():.6g} (mean {flat.mean():.6g})"


def _parameters(obj) -> list[tuple[str, str]]:
    out = []
    for name, a in obj._model_ir().attributes.items():
        if a.role == "parameter":
            try:
                out.append((name, _value(getattr(obj, name))))
            except Exception:  # noqa: BLE001 - a report describes what it can
                out.append((name, "?"))
    return out


def _models(items, attribute):
    seen = []
    for item in items:
        model = getattr(item, attribute)
        if all(model is not m for m in seen):
            seen.append(model)
    return seen


def _collect(net) -> dict:
    pops = net.get_populations()
    projs = net.get_projections()
    return {
        "populations": [(p.name, p.size, "x".join(str(g) for g in p.geometry), p.neuron_type.name, type(p).__name__)
                        for p in pops],
        "neurons": [(n.name, n.description, "spiking" if n.type == "spike" else "rate-coded",
                     {"Parameters": _lines(n.parameters), "Equations": _lines(n.equations),
                      "Spike condition": _lines(n.spike), "Reset": _lines(n.reset),
                      "Refractory period": _lines(None if n.refractory is None else str(n.refractory)),
                      "Functions": _lines(n.functions)})
                    for n in _models(pops, "neuron_type")],
        "projections": [(p.name, p.pre.name, p.post.name, ", ".join(p.targets), p.synapse_type.name,
                         getattr(p.connectivity, "description", "") or "", _nb(p)) for p in projs],
        "synapses": [(s.name, s.description, "spiking" if s.type == "spike" else "rate-coded",
                      {"Parameters": _lines(s.parameters), "Equations": _lines(s.equations),
                       "PSP": _lines(s.psp), "Operation": [] if s.operation == "sum" else [s.operation],
                       "Pre-synaptic event": _lines(s.pre_spike), "Post-synaptic event": _lines(s.post_spike),
                       "Functions": _lines(s.functions)})
                     for s in _models(projs, "synapse_type")],
        "parameters": [(p.name, _parameters(p)) for p in pops] + [(p.name, _parameters(p)) for p in projs],
        "monitors": [(m.name if hasattr(m, "name") else "", getattr(m.object, "name", str(m.object)),
                      ", ".join(m.variables)) for m in net.get_monitors()],
        "constants": [(c.name, f"{float(c):.6g}") for c in net._all_constants()],
    }


def _nb(proj) -> str:
    try:
        return str(proj.nb_synapses)
    except Exception:  # noqa: BLE001 - not connected yet
        return ""


# ---------------------------------------------------------------------------------------------
def _markdown(info, title, author, date, dt) -> str:
    def table(header, rows):
        if not rows:
            return ["(none)", ""]
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        return out + [""]

    out = [f"# {title}", ""]
    if author:
        out += [f"*{author}*", ""]
    out += [f"{date}", "", f"Time step: dt = {dt} ms", ""]
    out += ["## Populations", ""] + table(["Name", "Size", "Geometry", "Neuron type", "Kind"],
                                            info["populations"])
    out += ["## Neuron models", ""]
    for name, description, kind, fields in info["neurons"]:
        out += [f"### {name}", "", f"{kind} neuron" + (f": {description}" if description else ""), ""]
        for label, lines in fields.items():
            if lines:
                out += [f"**{label}**", "", "```"] + lines + ["```", ""]
    out += ["## Projections", ""] + table(["Name", "Pre", "Post", "Target", "Synapse type", "Connectivity",
                                           "Synapses"], info["projections"])
    out += ["## Synapse models", ""]
    for name, description, kind, fields in info["synapses"]:
        out += [f"### {name}", "", f"{kind} synapse" + (f": {description}" if description else ""), ""]
        for label, lines in fields.items():
            if lines:
                out += [f"**{label}**", "", "```"] + lines + ["```", ""]
    out += ["## Parameters", ""]
    for owner, params in info["parameters"]:
        if params:
            out += [f"### {owner}", ""] + table(["Parameter", "Value"], params)
    out += ["## Monitors", ""] + table(["Name", "Object", "Variables"], info["monitors"])
    if info["constants"]:
        out += ["## Constants", ""] + table(["Name", "Value"], info["constants"])
    return "\n".join(out)


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text) -> str:
    return "".join(_TEX.get(ch, ch) for ch in str(text))


def _latex(info, title, author, date, dt, standalone) -> str:
    def table(header, rows):
        if not rows:
            return ["(none)", ""]
        out = [r"\begin{tabular}{" + "l" * len(header) + "}", r"\hline",
               " & ".join(r"\textbf{" + _tex(h) + "}" for h in header) + r" \\", r"\hline"]
        out += [" & ".join(_tex(c) for c in row) + r" \\" for row in rows]
        return out + [r"\hline", r"\end{tabular}", ""]

    def code(lines):
        return [r"\begin{itemize}"] + [r"\item \texttt{" + _tex(line) + "}" for line in lines] + [r"\end{itemize}"]

    out = []
    if standalone:
        out += [r"\documentclass[10pt]{article}", r"\usepackage[margin=2cm]{geometry}",
                r"\title{" + _tex(title) + "}", r"\author{" + _tex(author or "") + "}",
                r"\date{" + _tex(date) + "}", r"\begin{document}", r"\maketitle", ""]
    out += [r"Time step: $dt = " + _tex(dt) + r"$ ms", "", r"\section*{Populations}"]
    out += table(["Name", "Size", "Geometry", "Neuron type", "Kind"], info["populations"])
    out += [r"\section*{Neuron models}"]
    for name, description, kind, fields in info["neurons"]:
        out += [r"\subsection*{" + _tex(name) + "}", _tex(kind + " neuron" + (": " + description if description
                                                                                else "")), ""]
        for label, lines in fields.items():
            if lines:
                out += [r"\paragraph{" + _tex(label) + "}"] + code(lines)
    out += [r"\section*{Projections}"]
    out += table(["Name", "Pre", "Post", "Target", "Synapse type", "Connectivity", "Synapses"],
                 info["projections"])
    out += [r"\section*{Synapse models}"]
    for name, description, kind, fields in info["synapses"]:
        out += [r"\subsection*{" + _tex(name) + "}", _tex(kind + " synapse" + (": " + description if description
                                                                                 else "")), ""]
        for label, lines in fields.items():
            if lines:
                out += [r"\paragraph{" + _tex(label) + "}"] + code(lines)
    out += [r"\section*{Parameters}"]
    for owner, params in info["parameters"]:
        if params:
            out += [r"\subsection*{" + _tex(owner) + "}"] + table(["Parameter", "Value"], params)
    out += [r"\section*{Monitors}"] + table(["Name", "Object", "Variables"], info["monitors"])
    if info["constants"]:
        out += [r"\section*{Constants}"] + table(["Name", "Value"], info["constants"])
    if standalone:
        out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def report(network=None, filename="./report.tex", standalone=True, gather_subprojections=False, title=None,
           author=None, date=None, net_id=None):
    """Write a description of ``network`` to ``filename``: Markdown when it ends with ``.md``,
    LaTeX otherwise (a whole document when ``standalone``).  ``gather_subprojections`` is
    accepted for compatibility (projections are listed one by one)."""
    from .network import Network
    if isinstance(network, str):
        raise InvalidTypeError("report(): the first argument is the network (ann.report(net, 'report.md')); "
                               "the filename comes second")
    if network is None:
        from .global_api import magic_network
        network = magic_network()
    if not isinstance(network, Network):
        raise InvalidTypeError(f"report(): expected a Network, not {type(network).__name__}")
    if not isinstance(filename, (str, os.PathLike)):
        raise InvalidTypeError(f"report(): filename must be a path, not {filename!r}")
    filename = os.fspath(filename)
    if not os.path.basename(filename):
        raise InvalidValueError(f"report(): {filename!r} names no file")
    info = _collect(network)
    title = title or "Network description"
    date = date or datetime.date.today().isoformat()
    if filename.endswith(".md"):
        text = _markdown(info, title, author, date, network.dt)
    else:
        text = _latex(info, title, author, date, network.dt, standalone)
    directory = os.path.dirname(filename)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(filename, "w", encoding="utf-8") as f:
        f.write(text)
