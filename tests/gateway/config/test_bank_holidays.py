"""Bank holidays: the ``holidays`` library's days for each UK nation, from its UK
calendar alone (the library's other 249 countries are about 8 MB a gateway never uses:
bench/memory.py's 200 MB)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import holidays
import pytest

from gateway.config.org_settings import Nation, bank_holidays


@pytest.mark.parametrize("nation", ["ENG", "WLS", "SCT", "NIR"])
@pytest.mark.parametrize("year", [1995, 2012, 2022, 2026, 2027, 2040])
def test_the_days_are_the_librarys(nation: Nation, year: int) -> None:
    around = date(year, 3, 1)
    library = holidays.country_holidays("GB", subdiv=nation, years=range(year - 1, year + 4))
    assert bank_holidays(nation, around) == frozenset(library)


def test_a_gateway_loads_the_uk_calendar_and_no_other_country(tmp_path: Path) -> None:
    """Start-up places the bank holidays (the service loads the policy with them); no
    other country's module is imported then, nor when ``country_holidays`` asks for
    the UK afterwards."""
    probe = (
        "import asyncio, sys\n"
        "from datetime import date\n"
        "import holidays\n"
        "from aiohttp import web\n"
        "from gateway.cli.main import server_app\n"
        "from gateway.config.org_settings import bank_holidays\n"
        "from gateway.config.settings import load_settings\n"
        "def countries():\n"
        "    return sorted(m for m in sys.modules if m.startswith('holidays.countries'))\n"
        "async def main():\n"
        "    runner = web.AppRunner(server_app(load_settings()))\n"
        "    await runner.setup()\n"
        "    print(countries())\n"
        "    await runner.cleanup()\n"
        "    assert bank_holidays('SCT', date(2026, 1, 1))\n"
        "    assert holidays.country_holidays('GB', subdiv='NIR', years=2026)\n"
        "    print(countries())\n"
        "asyncio.run(main())\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
        "GATEWAY_SMTP_PORT": "0",
        "GATEWAY_UPSTREAM": f"maildir:{tmp_path / 'mail'}",
        "GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
    }
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    at_start, after = loaded.stdout.strip().splitlines()[-2:]
    assert at_start == after == "['holidays.countries.united_kingdom']"
