"""Build of the optional compiled kernels (everything else is in pyproject.toml).

``gbobjectives._kernels`` holds the fused loss kernels (gbobjectives/_kernels.c) and the leaf
refit kernels (gbobjectives/_leaf_kernels.c). It is
optional: where no C compiler is available the build goes on without it and the package uses
its numpy path (``gbobjectives.show_config()`` tells which one is active).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -fno-math-errno lets GCC vectorise exp/log1p/pow and -fno-trapping-math its selects around them
# (neither changes a value: errno and floating-point traps are not used); no -ffast-math (it would
# reassociate the stable forms) and no FMA contraction (results would then differ between CPUs)
_UNIX_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fvisibility=hidden"]


class _BuildExt(build_ext):
    def build_extensions(self) -> None:
        flags = ["/O2", "/fp:precise"] if self.compiler.compiler_type == "msvc" else _UNIX_FLAGS
        for ext in self.extensions:
            ext.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "gbobjectives._kernels",
            sources=["gbobjectives/_kernels.c", "gbobjectives/_leaf_kernels.c"],
            libraries=[] if __import__("sys").platform == "win32" else ["m"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": _BuildExt},
)
