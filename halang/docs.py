"""Write the generated documentation: `python -m halang.docs` (what `make docs` runs)."""

from __future__ import annotations

import json
from pathlib import Path

from halang.explain import render_catalogue
from halang.model.cluster import Cluster

ROOT = Path(__file__).resolve().parents[1]


def generated_files() -> dict[Path, str]:
    schema = json.dumps(Cluster.model_json_schema(mode="serialization"), indent=2, sort_keys=True)
    return {
        ROOT / "docs" / "checks.md": render_catalogue(),
        ROOT / "docs" / "model.schema.json": schema + "\n",
    }


def main() -> None:
    for path, text in generated_files().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
