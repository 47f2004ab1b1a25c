"""timm's pretrained names and their heads, read without importing timm (and torch) on every
snakemake start.

Planning checks every `timm:<name>`; importing timm for that costs seconds. So its pretrained
names are read once per installed timm version into a cache file (core.json_cache), each with
what planning needs: the number of classes its head has, whether that head is ImageNet-1k's in
ImageNet-1k's order, and whether this workflow can reproduce its eval preprocessing.
"""

from dataclasses import asdict, dataclass, fields

from cifar_zeroshot.core.json_cache import PackageFacts, is_text_list

# timm's eval crop modes this workflow's matrix preprocessing reproduces (models.timm.preprocess).
SUPPORTED_CROP_MODES = ("center", "squash")


@dataclass(frozen=True)
class TimmCatalog:
    timm: str  # the version it was read from
    classes: dict[str, int]  # '<architecture>.<tag>' -> classes of its head (0: no head)
    imagenet1k: list[str]  # the names whose head is ImageNet-1k's 1000 classes in their order
    defaults: dict[str, str]  # architecture -> the tag timm takes when none is named
    unsupported_crop: dict[str, str]  # name -> its crop mode, where not SUPPORTED_CROP_MODES

    def tags(self, architecture: str) -> list[str]:
        """The architecture's tags, in timm's list order."""
        prefix = f"{architecture}."
        return [name[len(prefix) :] for name in self.classes if name.startswith(prefix)]

    def has(self, name: str) -> bool:
        return name in self.classes


def _build(version: str) -> TimmCatalog:
    import timm  # the seconds this module exists to spend once
    from timm.models import get_pretrained_cfg

    classes, imagenet1k, defaults, unsupported = {}, [], {}, {}
    for name in timm.list_pretrained():
        cfg = get_pretrained_cfg(name)
        architecture, _, tag = name.partition(".")
        if architecture not in defaults:  # the tag timm itself takes for the bare architecture
            defaults[architecture] = str(get_pretrained_cfg(architecture).tag or tag)
        classes[name] = int(cfg.num_classes or 0)
        if cfg.num_classes == 1000 and not cfg.label_offset:
            imagenet1k.append(name)
        if (cfg.crop_mode or "center") not in SUPPORTED_CROP_MODES:
            unsupported[name] = str(cfg.crop_mode)
    return TimmCatalog(version, classes, imagenet1k, defaults, unsupported)


def _text_dict(value: object) -> bool:
    return isinstance(value, dict) and is_text_list([*value, *value.values()])


def _parse(raw: object, version: str) -> TimmCatalog | None:
    """The catalog ``raw`` holds if it has every field, for ``version``; else None."""
    if not isinstance(raw, dict) or set(raw) != {field.name for field in fields(TimmCatalog)}:
        return None
    classes = raw["classes"]
    if raw["timm"] != version or not isinstance(classes, dict) or not is_text_list([*classes]):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in classes.values()):
        return None
    if not is_text_list(raw["imagenet1k"]) or not set(raw["imagenet1k"]) <= set(classes):
        return None
    if not _text_dict(raw["defaults"]) or not _text_dict(raw["unsupported_crop"]):
        return None
    return TimmCatalog(
        version, classes, raw["imagenet1k"], raw["defaults"], raw["unsupported_crop"]
    )


CATALOG = PackageFacts("timm", "timm-{version}-names.json", _build, _parse, asdict)


def timm_catalog(*, fresh: bool = False) -> TimmCatalog:
    """timm's pretrained names, from the cache (or read from timm once per process).

    ``fresh``: read from timm itself (once per process), and the cache rewritten.
    """
    return CATALOG.get(fresh=fresh)
