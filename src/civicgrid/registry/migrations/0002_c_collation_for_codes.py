"""Identifiers compare byte by byte on PostgreSQL (COLLATE "C").

Under a linguistic collation (en_US.UTF-8, zh_CN.UTF-8 …) every index probe on a code or a hash
pays for strcoll(); a bulk import probes millions of times. Codes, hashes and grid codes are
identifiers, never sorted for people, so "C" is both correct and several times faster. SQLite
compares bytes already. Indexes on the columns are rebuilt by ALTER TYPE.
"""

from django.db import migrations

COLUMNS = {
    "registry_building": {"code": 19, "grid_code": 14, "district_code": 6, "address": 200},
    "registry_house": {"code": 25, "grid_code": 14, "district_code": 6},
    "registry_person": {"id_hash": 64, "grid_code": 14, "district_code": 6},
    "registry_residence": {"grid_code": 14, "district_code": 6},
    "registry_organisation": {"credit_code": 18, "grid_code": 14, "district_code": 6},
    "registry_place": {"key": 40, "grid_code": 14, "district_code": 6},
    "registry_codesequence": {"prefix": 19},
}


def _alter(collation: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, columns in COLUMNS.items():
            parts = ", ".join(
                f'ALTER COLUMN "{col}" TYPE varchar({size}) COLLATE {collation}'
                for col, size in columns.items()
            )
            schema_editor.execute(f'ALTER TABLE "{table}" {parts}')

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(_alter('"C"'), _alter('"default"'))]
