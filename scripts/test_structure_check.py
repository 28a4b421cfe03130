"""Tests of scripts/structure-check on small made-up `src/` trees: a sibling cycle, a cycle
between top-level modules, a cycle closed only through a `pub use` re-export, a long function
and a long file are each reported; a parent using its own submodules, a child using `super::`,
a `mod tests { use super::*; }` block and braces inside strings and comments are not. Run by
scripts/check-deploy.sh: `python3 -m unittest discover -s scripts -p 'test_*.py'`.
"""
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "structure-check"


def check(files):
    """Runs the check on a tree holding `files` ({path: text}); returns (exit code, output)."""
    with tempfile.TemporaryDirectory() as root:
        for rel, text in files.items():
            path = Path(root, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        run = subprocess.run([sys.executable, str(SCRIPT), "--root", root],
                             capture_output=True, text=True, check=False)
        return run.returncode, run.stdout


LIB = "pub mod a;\npub mod b;\n"


class StructureCheck(unittest.TestCase):
    def test_clean_tree_passes(self):
        code, out = check({
            "lib.rs": LIB,
            "a/mod.rs": "mod inner;\npub use inner::X;\nfn f() { inner::g(); }\n",
            "a/inner.rs": "use super::Y;\npub struct X;\npub fn g() { let s = \"{\"; }\n"
                          "// }\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            "b.rs": "use crate::a::X;\n",
        })
        self.assertEqual(code, 0, out)
        self.assertIn("structure ok", out)

    def test_sibling_cycle_is_reported(self):
        code, out = check({
            "lib.rs": LIB,
            "a/mod.rs": "mod one;\nmod two;\n",
            "a/one.rs": "use super::two::T;\npub struct O;\n",
            "a/two.rs": "pub struct T;\nfn f() -> super::one::O { todo!() }\n",
            "b.rs": "",
        })
        self.assertEqual(code, 1)
        self.assertIn("cycle (file) 2 modules: a::one, a::two", out)

    def test_cycle_through_a_reexport_is_reported_at_the_top_level(self):
        code, out = check({
            "lib.rs": LIB,
            "a/mod.rs": "mod conf;\npub use conf::Conf;\n",
            "a/conf.rs": "pub struct Conf(pub crate::b::Secret);\n",
            "b.rs": "pub struct Secret;\npub struct All { a: crate::a::Conf }\n",
        })
        self.assertEqual(code, 1)
        self.assertIn("cycle (file) 2 modules: a::conf, b", out)
        self.assertIn("cycle (top-level) 2 modules: a, b", out)

    def test_long_function_and_long_file_are_reported(self):
        body = "fn long() {\n" + "    let x = 1;\n" * 60 + "}\n"
        code, out = check({"lib.rs": "pub mod a;\npub mod b;\n", "a.rs": body,
                           "b.rs": "\n" * 401})
        self.assertEqual(code, 1)
        self.assertIn("fn       62 lines  src/a.rs:1 long", out)
        self.assertIn("file    401 lines  src/b.rs", out)

    def test_sixty_line_function_passes(self):
        body = "fn ok() {\n" + "    let x = 1;\n" * 58 + "}\n"
        code, out = check({"lib.rs": "pub mod a;\n", "a.rs": body})
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
