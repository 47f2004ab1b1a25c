"""open_clip's published architectures and tags, read without importing open_clip (and torch) on
every snakemake start.

Planning checks every `clip:<architecture>/<tag>` name; importing open_clip for that costs
several seconds and about 1 GB. So the names are read once per installed open_clip version into a
cache file (core.json_cache) and from there after; a name the cache lacks is looked up in
open_clip itself before it is called unknown.
"""

from dataclasses import asdict, dataclass, fields

from cifar_zeroshot.core.json_cache import PackageFacts, is_text_list


@dataclass(frozen=True)
class ClipCatalog:
    open_clip: str  # the version it was read from
    pretrained: list[tuple[str, str]]  # (architecture, tag), as open_clip.list_pretrained()
    architectures: list[str]  # every architecture open_clip can build (list_models())
    # architecture -> the Hugging Face text model or tokenizer it needs (transformers)
    hf_text: dict[str, str]

    def tags(self, architecture: str) -> list[str]:
        """The architecture's tags, in open_clip's order (list_pretrained_tags_by_model)."""
        return [tag for name, tag in self.pretrained if name == architecture]

    def has(self, architecture: str, tag: str) -> bool:
        return (architecture, tag) in self.pretrained


def _build(version: str) -> ClipCatalog:
    import open_clip  # the seconds this module exists to spend once

    architectures = list(open_clip.list_models())
    hf_text = {}
    for architecture in architectures:
        text_cfg = (open_clip.get_model_config(architecture) or {}).get("text_cfg", {})
        name = text_cfg.get("hf_model_name") or text_cfg.get("hf_tokenizer_name")
        if name:
            hf_text[architecture] = str(name)
    pretrained = [(str(a), str(t)) for a, t in open_clip.list_pretrained()]
    return ClipCatalog(version, pretrained, architectures, hf_text)


def _parse(raw: object, version: str) -> ClipCatalog | None:
    """The catalog ``raw`` holds if it has every field, for ``version``; else None."""
    if not isinstance(raw, dict) or set(raw) != {field.name for field in fields(ClipCatalog)}:
        return None
    pretrained, architectures, hf_text = raw["pretrained"], raw["architectures"], raw["hf_text"]
    if raw["open_clip"] != version or not is_text_list(architectures):
        return None
    pairs = isinstance(pretrained, list) and all(
        isinstance(pair, list) and len(pair) == 2 and is_text_list(pair) for pair in pretrained
    )
    if (
        not pairs
        or not isinstance(hf_text, dict)
        or not is_text_list([*hf_text, *hf_text.values()])
    ):
        return None
    return ClipCatalog(version, [tuple(pair) for pair in pretrained], architectures, hf_text)


CATALOG = PackageFacts("open_clip_torch", "open_clip-{version}-names.json", _build, _parse, asdict)


def clip_catalog(*, fresh: bool = False) -> ClipCatalog:
    """open_clip's names, from the cache (or read from open_clip once per process).

    ``fresh``: read from open_clip itself (once per process), and the cache rewritten.
    """
    return CATALOG.get(fresh=fresh)
