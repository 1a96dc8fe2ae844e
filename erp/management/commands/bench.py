from django.core.management.base import BaseCommand, CommandError

from erp.benchmarks import all_benchmarks, get_benchmark


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
        self.stdout.write(f"{bench.name}: {value} {unit}")
