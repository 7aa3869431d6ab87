"""README.md names every config file, so a reader finds each experiment from the front page."""
import re

from inductive_kd import config as config_lib


def test_readme_lists_every_config_file():
  readme = (config_lib.REPO_ROOT / "README.md").read_text()
  table = readme[readme.index("| config | what |"):]
  table = table[:table.index("\n\n")]
  listed = set(re.findall(r"`(?:configs/)?([a-z_]+\.py)`?", table))
  files = {p.name for p in (config_lib.REPO_ROOT / "configs").glob("*.py")}
  assert files <= listed, f"README's config table lacks {sorted(files - listed)}"
