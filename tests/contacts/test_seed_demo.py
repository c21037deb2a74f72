"""seed_demo: realistic, deterministic, idempotent demo data, and demo users to log in with."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from contacts import registry
from contacts.demo import DEMO_PASSWORD, DEMO_USERS
from contacts.models import Channel, Company, Contact, Interaction

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", size="small", force=True, stdout=out, **options)
    return out.getvalue()


def record_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "channels": Channel.objects.count(),
        "companies": Company.objects.count(),
        "contacts": Contact.objects.count(),
        "interactions": Interaction.objects.count(),
    }


@pytest.fixture
def no_registered_seeders(monkeypatch):
    monkeypatch.setattr(registry, "_demo_seeders", {})


# The demo users


def test_creates_one_demo_user_per_role_and_two_more_sales_reps():
    seed()

    roles = {user.username: list(user.groups.values_list("name", flat=True)) for user in User.objects.all()}
    assert roles == {
        "sales": ["sales"],
        "sales2": ["sales"],
        "sales3": ["sales"],
        "support": ["support"],
        "manager": ["manager"],
        "admin": ["admin"],
    }


def test_demo_users_log_in_with_the_demo_password():
    seed()

    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())


def test_only_the_admin_is_staff_and_superuser():
    seed()

    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == ["admin"]


def test_prints_the_logins_at_the_end():
    output = seed()

    logins = output[output.index("Log in with:") :]
    for spec in DEMO_USERS:
        assert any(line.split() == [spec.username, DEMO_PASSWORD, spec.role] for line in logins.splitlines())


def test_prints_what_it_created():
    output = seed()

    assert any(line.split() == ["contacts", "300", "300"] for line in output.splitlines())
    assert any(line.split() == ["companies", "60", "60"] for line in output.splitlines())


# The records


def test_small_seeds_the_channels_companies_contacts_and_interactions():
    seed()

    assert set(Channel.objects.values_list("name", flat=True)) == {
        "Organic search",
        "Paid ads",
        "Referral",
        "Events",
        "Outbound",
        "Partner",
        "Web form",
    }
    assert Company.objects.count() == 60
    assert Contact.objects.count() == 300
    assert 300 <= Interaction.objects.count() <= 3000


def test_companies_span_industries_regions_and_size_bands():
    seed()

    assert Company.objects.values("industry").distinct().count() >= 5
    assert Company.objects.values("region").distinct().count() == 4
    assert Company.objects.values("size_band").distinct().count() >= 4


def test_about_a_third_of_contacts_become_customers_after_they_were_created():
    seed()

    customers = Contact.objects.filter(customer_since__isnull=False)
    assert 0.2 <= customers.count() / 300 <= 0.45
    assert not customers.filter(customer_since__lte=F("created_at")).exists()


def test_some_customers_churn_and_never_before_they_became_customers():
    seed()

    churned = Contact.objects.filter(churned_at__isnull=False)
    assert 0 < churned.count() < Contact.objects.filter(customer_since__isnull=False).count()
    assert not churned.filter(Q(customer_since__isnull=True) | Q(churned_at__lte=F("customer_since"))).exists()


def test_nothing_happens_in_the_future_or_before_two_years_ago():
    seed()

    now, two_years_ago = timezone.now(), timezone.now() - timedelta(days=731)
    assert not Contact.objects.filter(
        Q(created_at__gt=now) | Q(customer_since__gt=now) | Q(churned_at__gt=now) | Q(created_at__lt=two_years_ago)
    ).exists()
    assert not Interaction.objects.filter(occurred_at__gt=now).exists()
    assert Contact.objects.filter(created_at__gte=now - timedelta(days=120)).exists()
    assert Contact.objects.filter(created_at__lte=now - timedelta(days=600)).exists()


def test_interactions_happen_within_their_contacts_lifetime():
    seed()

    assert not Interaction.objects.filter(occurred_at__lt=F("contact__created_at")).exists()


def test_interactions_are_skewed_some_contacts_have_many():
    seed()

    per_contact = sorted(Contact.objects.annotate(n=Count("interactions")).values_list("n", flat=True))
    median, most = per_contact[len(per_contact) // 2], per_contact[-1]
    assert 1 <= median <= 5
    assert most >= 4 * median
    assert Interaction.objects.values("kind").distinct().count() >= 5


def test_industry_is_often_left_to_the_company():
    seed()

    falls_back = Contact.objects.filter(industry="", company__isnull=False).exclude(company__industry="")
    assert falls_back.count() >= 100


def test_owners_are_spread_over_the_sales_reps():
    seed()

    owners = dict(Contact.objects.values_list("owner__username").annotate(n=Count("id")))
    assert set(owners) == {"sales", "sales2", "sales3"}
    assert min(owners.values()) >= 30


def test_contact_emails_are_unique_and_on_reserved_example_domains():
    seed()

    emails = list(Contact.objects.values_list("email", flat=True))
    assert len(set(emails)) == len(emails) == 300
    assert all(email.split("@")[1].split(".")[-2] == "example" for email in emails)


def test_every_demo_record_has_a_demo_external_id():
    seed()

    assert not Company.objects.exclude(external_id__startswith="demo-company-").exists()
    assert not Contact.objects.exclude(external_id__startswith="demo-contact-").exists()
    assert not Interaction.objects.exclude(external_id__startswith="demo-interaction-").exists()


# Idempotent and deterministic


def test_running_twice_adds_nothing():
    seed()
    first = record_counts()

    output = seed()

    assert record_counts() == first
    assert any(line.split() == ["contacts", "0", "300"] for line in output.splitlines())


@pytest.mark.usefixtures("no_registered_seeders")
def test_running_again_brings_back_a_deleted_demo_contact_with_its_interactions():
    seed()
    first = record_counts()
    Contact.objects.get(external_id="demo-contact-0000042").delete()

    seed()

    assert record_counts() == first
    assert Contact.objects.get(external_id="demo-contact-0000042").interactions.exists()


def test_running_again_resets_the_demo_users_password():
    seed()
    sales = User.objects.get(username="sales")
    sales.set_password("something-else")
    sales.save()

    seed()

    assert User.objects.get(username="sales").check_password(DEMO_PASSWORD)


def snapshot() -> list[tuple]:
    return list(
        Contact.objects.order_by("external_id").values_list(
            "external_id", "email", "company__name", "channel__name", "created_at", "customer_since", "churned_at"
        )
    ) + list(Interaction.objects.order_by("external_id").values_list("external_id", "kind", "occurred_at", "summary"))


def delete_demo_records():
    Interaction.objects.all().delete()
    Contact.objects.all().delete()
    Company.objects.all().delete()


@pytest.mark.usefixtures("no_registered_seeders")
def test_the_same_seed_gives_the_same_data():
    seed(seed=7)
    first = snapshot()
    delete_demo_records()

    seed(seed=7)

    assert snapshot() == first


@pytest.mark.usefixtures("no_registered_seeders")
def test_another_seed_gives_other_data():
    seed(seed=7)
    first = sorted(Contact.objects.values_list("email", flat=True))
    delete_demo_records()

    seed(seed=8)

    assert sorted(Contact.objects.values_list("email", flat=True)) != first


# Refusals


def test_an_unknown_size_is_refused_on_the_command_line():
    with pytest.raises(CommandError, match="invalid choice: 'huge'"):
        call_command("seed_demo", "--size", "huge", "--force")


def test_an_unknown_size_is_refused_when_called_from_code():
    with pytest.raises(CommandError, match="Unknown size 'huge': choose one of small, medium, large"):
        call_command("seed_demo", size="huge", force=True)
    assert not Contact.objects.exists()


def test_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="pass --force"):
        call_command("seed_demo", size="small", stdout=StringIO())
    assert not User.objects.exists()


# Seeders of other apps


def test_registered_seeders_run_after_contacts_in_registration_order(no_registered_seeders):
    calls = []
    registry.register_demo_seeder("first", lambda context: calls.append(("first", Contact.objects.count())))
    registry.register_demo_seeder("second", lambda context: calls.append(("second", Contact.objects.count())))

    seed()

    assert calls == [("first", 300), ("second", 300)]


def test_registered_seeders_get_the_context(no_registered_seeders):
    contexts = []
    registry.register_demo_seeder("probe", contexts.append)

    seed(seed=5)

    (context,) = contexts
    assert (context.size, context.seed) == ("small", 5)
    assert [user.username for user in context.sales_reps] == ["sales", "sales2", "sales3"]
    assert context.users["support"].groups.filter(name="support").exists()
    assert context.now <= timezone.now()


def test_a_failing_seeder_leaves_none_of_its_own_writes(no_registered_seeders):
    def half_done(context):
        Channel.objects.create(name="Half-written")
        raise RuntimeError("broken seeder")

    registry.register_demo_seeder("broken", half_done)

    with pytest.raises(RuntimeError, match="broken seeder"):
        seed()

    assert not Channel.objects.filter(name="Half-written").exists()
    assert Contact.objects.count() == 300


def test_a_seeder_name_can_be_registered_only_once(no_registered_seeders):
    def seeder(context):
        return None

    registry.register_demo_seeder("sales", seeder)
    registry.register_demo_seeder("sales", seeder)  # the same again is harmless

    with pytest.raises(ValueError, match="already registered"):
        registry.register_demo_seeder("sales", lambda context: None)
    assert registry.demo_seeders() == (("sales", seeder),)


def test_a_seeder_given_by_its_dotted_path_is_imported_when_seeding(no_registered_seeders):
    registry.register_demo_seeder("sales", "sales.demo.seed_sales")
    registry.register_demo_seeder("sales", ".".join(["sales", "demo", "seed_sales"]))  # the same path again
    with pytest.raises(ValueError, match="already registered"):
        registry.register_demo_seeder("sales", "support.demo.seed_support")

    from sales.demo import seed_sales

    assert registry.demo_seeders() == (("sales", seed_sales),)


def test_the_demo_generators_are_not_loaded_to_serve_requests_or_imports():
    """The apps register their seeders by dotted path: Faker and the generators load only for `seed_demo`."""
    code = (
        "import django, sys; django.setup(); "
        "print(sorted(m for m in ('faker', 'sales.demo', 'support.demo', 'surveys.demo') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm_project.settings", "SECRET_KEY": "test-only"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
