from django.core.management.base import BaseCommand, CommandError

from erp.benchmarks import after_benchmark_checks, all_benchmarks, get_benchmark


class Command(BaseCommand):
    help = "Run a benchmark against the configured database; the last line is `name: value unit`."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="benchmark to run (omit to list them)")

    def handle(self, *args, name=None, **options):
        if not name:
            for bench in all_benchmarks():
                self.stdout.write(f"{bench.name:<16} {bench.description}")
            return
        bench = get_benchmark(name)
        if bench is None:
            known = ", ".join(b.name for b in all_benchmarks())
            raise CommandError(f"Unknown benchmark {name!r}. Known: {known}")
        value, unit = bench.run(self.stdout)
        for check in after_benchmark_checks():
            lines, clean = check()
            for line in lines:
                self.stdout.write(line)
            if not clean:
                self.stdout.write(f"FAILED after {bench.name}: {lines[-1] if lines else ''}")
        self.stdout.write(f"{bench.name}: {value} {unit}")
