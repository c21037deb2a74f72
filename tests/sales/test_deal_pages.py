"""The pipeline board and the deal pages, as a member of the sales team uses them."""

import datetime
import re
from decimal import Decimal
from html import unescape
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from sales import services
from sales.models import Deal, DealStageChange, Pipeline, Stage
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory
from tests.sales.factories import CampaignFactory, DealFactory, LeadFactory, stage

pytestmark = pytest.mark.django_db

BOARD = reverse("sales:deal_board")
DEAL_LIST = reverse("sales:deal_list")
DEAL_CREATE = reverse("sales:deal_create")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25


def url(name: str, deal: Deal) -> str:
    return reverse(f"sales:{name}", args=[deal.pk])


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def column(response, stage_name: str) -> dict:
    """The board column of a stage, as the page shows it."""
    return next(c for c in response.context["columns"] if c["stage"].name == stage_name)


def titles(response, stage_name: str) -> list[str]:
    """The card titles of a stage's column, read from the HTML (htmx fragments carry no context in tests)."""
    html = response.content.decode()
    for section in html.split('<section class="board-column')[1:]:
        name = re.search(r'<h2 class="h6 mb-0" id="stage-\d+">([^<]+)</h2>', section).group(1)
        if name == stage_name:
            found = re.findall(r'<a class="fw-semibold d-block[^"]*" href="[^"]+"[^>]*>([^<]+)</a>', section)
            return [unescape(title) for title in found]
    raise AssertionError(f"no column {stage_name}")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def other_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.create(name="Partners")
    Stage.objects.bulk_create(
        [
            Stage(pipeline=pipeline, name="Intro", position=1, probability=20),
            Stage(pipeline=pipeline, name="Signed", position=2, probability=100, kind=Stage.Kind.WON),
            Stage(pipeline=pipeline, name="Dropped", position=3, probability=0, kind=Stage.Kind.LOST),
        ]
    )
    return pipeline


def deal_form_data(**overrides) -> dict:
    data = {
        "title": "Fleet renewal",
        "contact": "",
        "company": "",
        "owner": "",
        "channel": "",
        "kind": "new",
        "amount": "12000.00",
        "expected_close_date": "",
        "stage": "",
    }
    data.update(overrides)
    return data


# The board: what it shows


def test_board_has_a_column_per_open_stage_then_won_and_lost(sales_client):
    response = sales_client.get(BOARD)

    assert response.status_code == 200
    assert [c["stage"].name for c in response.context["columns"]] == [
        "Qualification",
        "Needs analysis",
        "Proposal",
        "Negotiation",
    ]
    assert [s.name for s in response.context["closing_stages"]] == ["Won", "Lost"]
    html = response.content.decode()
    assert 'data-stage-kind="won"' in html and 'data-stage-kind="lost"' in html


def test_board_columns_show_count_total_and_probability_weighted_total(sales_client, sales_user):
    DealFactory(owner=sales_user, amount=Decimal("1000.00"), stage=stage("Proposal"))
    DealFactory(owner=sales_user, amount=Decimal("3000.50"), stage=stage("Proposal"))
    DealFactory(owner=sales_user, amount=Decimal("999.00"), stage=stage("Qualification"))

    response = sales_client.get(BOARD)

    proposal = column(response, "Proposal")
    assert (proposal["count"], proposal["total"], proposal["weighted"]) == (2, Decimal("4000.50"), Decimal("2000.25"))
    html = response.content.decode()
    assert "4,000.50 EUR" in html
    assert "<dt>Weighted (50%)</dt><dd>2,000.25 EUR</dd>" in html


def test_board_cards_show_title_company_amount_owner_and_age(sales_client, make_user):
    owner = make_user("sales", first_name="Rita", last_name="Rep")
    sales_client.force_login(owner)
    DealFactory(
        title="Warehouse robots",
        owner=owner,
        contact=ContactFactory(company=CompanyFactory(name="Initech")),
        amount=Decimal("25000.00"),
        created_at=timezone.now() - datetime.timedelta(days=12),
    )

    response = sales_client.get(BOARD)

    html = response.content.decode()
    assert titles(response, "Qualification") == ["Warehouse robots"]
    assert "Initech" in html
    assert "25,000.00 EUR" in html
    assert "Rita Rep" in html
    assert "12 days" in html


def test_board_biggest_deals_come_first_in_a_column(sales_client, sales_user):
    for title, amount in [("Small", "100.00"), ("Big", "9000.00"), ("Medium", "500.00")]:
        DealFactory(title=title, owner=sales_user, amount=Decimal(amount))

    response = sales_client.get(BOARD)

    assert titles(response, "Qualification") == ["Big", "Medium", "Small"]


def test_board_leaves_out_closed_deals(sales_client, sales_user):
    DealFactory(title="Open one", owner=sales_user)
    won = DealFactory(title="Won one", owner=sales_user)
    won.status, won.stage, won.closed_at = Deal.Status.WON, stage("Won"), timezone.now()
    won.save()

    response = sales_client.get(BOARD)

    assert titles(response, "Qualification") == ["Open one"]


def test_board_shows_my_deals_when_no_owner_is_chosen(sales_client, sales_user, make_user):
    DealFactory(title="Mine", owner=sales_user)
    DealFactory(title="A colleague's", owner=make_user("sales"))

    response = sales_client.get(BOARD)

    assert titles(response, "Qualification") == ["Mine"]
    assert response.context["filter"].form["owner"].value() == str(sales_user.pk)


def test_board_shows_everyones_deals_when_anyone_is_chosen(sales_client, sales_user, make_user):
    DealFactory(title="Mine", owner=sales_user, amount=Decimal("2.00"))
    DealFactory(title="A colleague's", owner=make_user("sales"), amount=Decimal("1.00"))

    response = sales_client.get(BOARD, {"owner": ""})

    assert titles(response, "Qualification") == ["Mine", "A colleague's"]
    assert '<option value="" selected>Anyone</option>' in response.content.decode()


def test_board_filters_by_channel_and_kind(sales_client, sales_user):
    referral = ChannelFactory(name="Referral")
    DealFactory(title="Referred upsell", owner=sales_user, channel=referral, kind=Deal.Kind.UPSELL)
    DealFactory(title="Referred new", owner=sales_user, channel=referral, kind=Deal.Kind.NEW)
    DealFactory(title="Ads upsell", owner=sales_user, channel=ChannelFactory(name="Paid ads"), kind=Deal.Kind.UPSELL)

    response = sales_client.get(BOARD, {"channel": referral.pk, "kind": "upsell"})

    assert titles(response, "Qualification") == ["Referred upsell"]


def test_board_shows_a_pipeline_chooser_only_when_there_are_several(sales_client):
    assert 'name="pipeline"' not in sales_client.get(BOARD).content.decode()

    partners = other_pipeline()
    response = sales_client.get(BOARD, {"pipeline": partners.pk})

    assert 'name="pipeline"' in response.content.decode()
    assert [c["stage"].name for c in response.context["columns"]] == ["Intro"]
    assert [s.name for s in response.context["closing_stages"]] == ["Signed", "Dropped"]


def test_board_with_an_unknown_pipeline_shows_the_default_one(sales_client):
    other_pipeline()

    response = sales_client.get(BOARD, {"pipeline": "987654"})

    assert response.context["pipeline"].is_default


def test_board_htmx_request_gets_only_the_board_fragment(sales_client, sales_user):
    DealFactory(title="Warehouse robots", owner=sales_user)

    response = sales_client.get(BOARD, {"owner": ""}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html
    assert "Warehouse robots" in html


def test_board_loads_its_own_script_and_has_no_inline_script_or_style(sales_client, sales_user):
    DealFactory(owner=sales_user)

    html = sales_client.get(BOARD).content.decode()

    assert '<script src="/static/js/board.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html
    assert "cdn" not in html.lower()


def test_board_cards_have_a_move_control_that_works_without_javascript(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    html = sales_client.get(BOARD).content.decode()

    form = re.search(
        rf'<form class="board-move[^"]*" method="post" action="{url("deal_move", deal)}".*?</form>', html, re.S
    )
    assert form, "no move form on the card"
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", form.group(0))
    assert options == ["Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    assert f'<label class="visually-hidden" for="move-{deal.pk}">' in form.group(0)
    assert ">Move</button>" in form.group(0)


def test_board_of_a_reader_has_no_move_controls(client, manager_user):
    DealFactory(owner=manager_user)
    client.force_login(manager_user)

    html = client.get(BOARD).content.decode()

    assert "board-move" not in html
    assert 'draggable="true"' not in html


# The board: moving a card


def test_moving_a_card_with_its_form_moves_the_deal_and_returns_to_the_board(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    board = f"{BOARD}?{urlencode({'kind': 'new'})}"

    response = sales_client.post(url("deal_move", deal), {"stage": stage("Proposal").pk, "next": board}, follow=True)

    assert response.redirect_chain == [(board, 302)]
    assert titles(response, "Proposal") == [deal.title]
    assert f"{deal.title} moved to Proposal." in messages_of(response)
    change = DealStageChange.objects.filter(deal=deal).latest("changed_at")
    assert (change.from_stage.name, change.to_stage.name, change.changed_by) == (
        "Qualification",
        "Proposal",
        sales_user,
    )


def test_moving_a_card_by_drag_and_drop_answers_with_the_new_board(sales_client, sales_user):
    deal = DealFactory(owner=sales_user, title="Dragged")
    DealFactory(owner=sales_user, title="Stays", channel=ChannelFactory(name="Events"))
    board = f"{BOARD}?{urlencode({'kind': 'new', 'owner': ''})}"

    response = sales_client.post(url("deal_move", deal), {"stage": stage("Negotiation").pk, "next": board}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="board"')
    assert titles(response, "Negotiation") == ["Dragged"]
    assert titles(response, "Qualification") == ["Stays"]
    assert f'data-next="{BOARD}?owner=&amp;kind=new"' in html  # the filters the user was looking at
    assert "Dragged moved to Negotiation." in html
    deal.refresh_from_db()
    assert deal.stage.name == "Negotiation"


def test_dropping_a_card_on_won_wins_the_deal_and_makes_a_customer(sales_client, sales_user):
    contact = ContactFactory(customer_since=None)
    deal = DealFactory(owner=sales_user, contact=contact)

    response = sales_client.post(url("deal_move", deal), {"stage": stage("Won").pk, "next": BOARD}, **HTMX)

    deal.refresh_from_db()
    contact.refresh_from_db()
    assert f"{deal.title} won." in response.content.decode()
    assert deal.status == Deal.Status.WON and deal.closed_at is not None
    assert contact.customer_since == deal.closed_at
    assert titles(response, "Qualification") == []


def test_dropping_a_card_on_lost_asks_why_above_the_board_and_changes_nothing(sales_client, sales_user):
    deal = DealFactory(owner=sales_user, title="Robots")

    response = sales_client.post(url("deal_move", deal), {"stage": stage("Lost").pk, "next": BOARD}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Why was <strong>Robots</strong> lost?" in html
    assert f'hx-post="{url("deal_lose", deal)}"' in html
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN and deal.stage.name == "Qualification"


def test_answering_the_lost_prompt_loses_the_deal_and_shows_the_board(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_lose", deal), {"reason": "Went with a competitor", "next": BOARD}, **HTMX)

    deal.refresh_from_db()
    assert response.content.decode().lstrip().startswith('<div id="board"')
    assert (deal.status, deal.stage.name, deal.lost_reason) == (Deal.Status.LOST, "Lost", "Went with a competitor")


def test_answering_the_lost_prompt_without_a_reason_asks_again(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_lose", deal), {"reason": "   ", "next": BOARD}, **HTMX)

    assert response.status_code == 200
    assert "Say why the deal was lost." in response.content.decode()
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN


def test_moving_to_lost_without_javascript_shows_a_small_form_for_the_reason(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_move", deal), {"stage": stage("Lost").pk, "next": BOARD}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(f"{url('deal_lose', deal)}?{urlencode({'next': BOARD})}", 302)]
    assert f'action="{url("deal_lose", deal)}"' in html
    assert 'name="reason"' in html
    assert f'name="next" value="{BOARD}"' in html
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN


def test_the_reason_form_without_javascript_loses_the_deal_and_returns_to_the_board(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    board = f"{BOARD}?owner="

    response = sales_client.post(url("deal_lose", deal), {"reason": "No budget", "next": board}, follow=True)

    assert response.redirect_chain == [(board, 302)]
    assert f"{deal.title} lost." in messages_of(response)
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == (Deal.Status.LOST, "No budget")


def test_moving_to_lost_with_a_reason_loses_the_deal_at_once(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    sales_client.post(url("deal_move", deal), {"stage": stage("Lost").pk, "lost_reason": "No budget", "next": BOARD})

    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == (Deal.Status.LOST, "No budget")


def test_moving_to_a_stage_of_another_pipeline_is_refused_with_the_reason(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    foreign = other_pipeline().stages.get(name="Intro")

    response = sales_client.post(url("deal_move", deal), {"stage": foreign.pk, "next": BOARD}, follow=True)

    assert "The stage Intro belongs to another pipeline." in messages_of(response)
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"
    assert DealStageChange.objects.filter(deal=deal).count() == 0


def test_moving_a_won_deal_on_the_board_is_refused_in_place(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    sales_client.post(url("deal_win", deal))

    response = sales_client.post(url("deal_move", deal), {"stage": stage("Proposal").pk, "next": BOARD}, **HTMX)

    assert response.status_code == 200  # htmx swaps only 2xx answers in
    assert "This deal is won; reopen it before moving it." in response.content.decode()
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON


def test_moving_to_an_unknown_stage_says_so(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_move", deal), {"stage": "987654"}, follow=True)

    assert "Choose a stage to move the deal to." in messages_of(response)


def test_moving_goes_back_only_to_our_own_pages(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(
        url("deal_move", deal), {"stage": stage("Proposal").pk, "next": "https://evil.example/"}
    )

    assert response.url == deal.get_absolute_url()


def test_moving_an_unknown_deal_is_not_found(sales_client):
    response = sales_client.post(reverse("sales:deal_move", args=[987654]), {"stage": stage("Proposal").pk})

    assert response.status_code == 404


# The board: queries


def deals_with_everything(count: int, make_user) -> None:
    """Open deals across the stages, each with its own owner, contact, company and channel."""
    stages = list(Stage.objects.filter(pipeline__is_default=True, kind=Stage.Kind.OPEN))
    for index in range(count):
        DealFactory(owner=make_user("sales"), channel=ChannelFactory(), stage=stages[index % len(stages)])


def test_board_queries_do_not_grow_with_the_deals(sales_client, make_user, django_assert_max_num_queries):
    deals_with_everything(3, make_user)
    with django_assert_max_num_queries(15) as with_three_deals:
        sales_client.get(BOARD, {"owner": ""})

    deals_with_everything(27, make_user)
    with django_assert_max_num_queries(len(with_three_deals)):
        response = sales_client.get(BOARD, {"owner": ""})

    assert sum(len(c["deals"]) for c in response.context["columns"]) == 30


# The deal list


def test_deal_list_shows_my_deals_by_default_and_everyones_on_request(sales_client, sales_user, make_user):
    mine = DealFactory(owner=sales_user)
    theirs = DealFactory(owner=make_user("sales"))

    assert shown(sales_client.get(DEAL_LIST)) == [mine]
    assert set(shown(sales_client.get(DEAL_LIST, {"owner": ""}))) == {mine, theirs}


def test_deal_list_shows_when_a_closed_deal_closed(sales_client, sales_user):
    won = DealFactory(
        owner=sales_user,
        status=Deal.Status.WON,
        created_at=datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC),
        closed_at=datetime.datetime(2026, 3, 5, 15, tzinfo=datetime.UTC),
    )
    DealFactory(owner=sales_user)

    page = sales_client.get(DEAL_LIST, {"states": "won,lost"}).content.decode()

    assert '<th scope="col" class="d-none d-md-table-cell">Closed</th>' in page
    assert ">2026-03-05</span>" in page
    assert won.title in page


def test_the_weighted_total_keeps_the_cents_of_whole_amounts(sales_client, sales_user):
    negotiation = stage("Negotiation")
    DealFactory(owner=sales_user, amount=Decimal("830.00"), stage=negotiation)
    DealFactory(owner=sales_user, amount=Decimal("1001.00"), stage=negotiation)

    totals = sales_client.get(DEAL_LIST).context["totals"]

    assert totals["weighted"] == (Decimal("1831.00") * negotiation.probability / 100).quantize(Decimal("0.01"))
    assert negotiation.probability == 75 and totals["weighted"] == Decimal("1373.25")


def test_deal_list_shows_the_totals_of_the_filtered_deals(sales_client, sales_user):
    DealFactory(owner=sales_user, amount=Decimal("1000.00"), stage=stage("Proposal"))
    DealFactory(owner=sales_user, amount=Decimal("3000.00"), stage=stage("Negotiation"))
    DealFactory(owner=sales_user, amount=Decimal("7777.00"), kind=Deal.Kind.UPSELL)

    response = sales_client.get(DEAL_LIST, {"kind": "new"})

    totals = response.context["totals"]
    assert (totals["count"], totals["total"], totals["weighted"]) == (2, Decimal("4000.00"), Decimal("2750.00"))
    assert "4,000.00 EUR" in response.content.decode()
    assert "2,750.00 EUR" in response.content.decode()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"stage": "Proposal"}, ["Proposal deal"]),
        ({"state": "won"}, ["Won deal"]),
        ({"amount_min": "2000", "amount_max": "6000"}, ["Proposal deal"]),
        ({"expected_close_month": "2026-05"}, ["Won deal"]),
        ({"q": "propos"}, ["Proposal deal"]),
    ],
)
def test_deal_list_filters(sales_client, sales_user, filters, expected):
    DealFactory(title="First deal", owner=sales_user, amount=Decimal("100.00"))
    DealFactory(title="Proposal deal", owner=sales_user, amount=Decimal("5000.00"), stage=stage("Proposal"))
    won = DealFactory(title="Won deal", owner=sales_user, amount=Decimal("9000.00"))
    won.expected_close_date = datetime.date(2026, 5, 20)
    won.save()
    sales_client.post(url("deal_win", won))
    if "stage" in filters:
        filters = {**filters, "stage": stage(filters["stage"]).pk}

    response = sales_client.get(DEAL_LIST, filters)

    assert [deal.title for deal in shown(response)] == expected


def test_deal_list_sorts_by_amount(sales_client, sales_user):
    for amount in ["300.00", "100.00", "200.00"]:
        DealFactory(owner=sales_user, amount=Decimal(amount))

    response = sales_client.get(DEAL_LIST, {"ordering": "-amount"})

    assert [deal.amount for deal in shown(response)] == [Decimal("300.00"), Decimal("200.00"), Decimal("100.00")]


def test_deal_list_htmx_request_gets_the_results_with_their_totals(sales_client, sales_user):
    DealFactory(owner=sales_user, amount=Decimal("1234.00"))

    response = sales_client.get(DEAL_LIST, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert "1,234.00 EUR" in html


def test_deal_list_queries_do_not_grow_with_the_rows(sales_client, make_user, django_assert_max_num_queries):
    deals_with_everything(3, make_user)
    with django_assert_max_num_queries(20) as with_three_rows:
        sales_client.get(DEAL_LIST, {"owner": ""})

    deals_with_everything(27, make_user)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(DEAL_LIST, {"owner": ""})

    assert len(shown(response)) == PAGE_SIZE


# Opening a deal


def test_new_deal_from_a_contact_page_is_prefilled_with_the_contact(sales_client, sales_user):
    contact = ContactFactory()

    response = sales_client.get(DEAL_CREATE, {"contact": contact.pk})

    form = response.context["form"]
    assert form["contact"].value() == contact.pk
    assert form["company"].value() == contact.company_id
    assert form["channel"].value() == contact.channel_id
    assert form["owner"].value() == sales_user.pk


def test_new_deal_for_a_customer_is_an_upsell_by_default(sales_client):
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=90))

    response = sales_client.get(DEAL_CREATE, {"contact": contact.pk})

    assert response.context["form"]["kind"].value() == Deal.Kind.UPSELL


def test_opening_a_deal_puts_it_in_the_first_stage_and_records_it(sales_client, sales_user):
    contact = ContactFactory()

    response = sales_client.post(DEAL_CREATE, deal_form_data(contact=contact.pk))

    deal = Deal.objects.get()
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    assert (deal.title, deal.amount, deal.stage.name, deal.owner) == (
        "Fleet renewal",
        Decimal("12000.00"),
        "Qualification",
        sales_user,
    )
    assert deal.company == contact.company
    assert DealStageChange.objects.filter(deal=deal, from_stage=None, to_stage=deal.stage).exists()


def test_opening_a_deal_in_a_chosen_stage(sales_client):
    sales_client.post(DEAL_CREATE, deal_form_data(stage=stage("Proposal").pk))

    assert Deal.objects.get().stage.name == "Proposal"


def test_opening_a_deal_with_a_negative_amount_is_refused(sales_client):
    response = sales_client.post(DEAL_CREATE, deal_form_data(amount="-5.00", title="Keep me"))

    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert 'value="Keep me"' in response.content.decode()
    assert not Deal.objects.exists()


def test_opening_a_deal_in_a_closed_stage_is_not_offered(sales_client):
    response = sales_client.post(DEAL_CREATE, deal_form_data(stage=stage("Won").pk))

    assert "stage" in response.context["form"].errors
    assert not Deal.objects.exists()


# The deal page


def test_deal_page_shows_facts_stage_history_and_the_contacts_timeline(sales_client, sales_user):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")
    InteractionFactory(contact=contact, summary="Asked for a quote")
    deal = DealFactory(contact=contact, owner=sales_user, amount=Decimal("4200.00"))
    sales_client.post(url("deal_move", deal), {"stage": stage("Proposal").pk})

    response = sales_client.get(deal.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "4,200.00 EUR" in html
    assert "Ada Lovelace" in html
    assert [(c.from_stage.name, c.to_stage.name) for c in response.context["history"]] == [
        ("Qualification", "Proposal")
    ]
    assert "Asked for a quote" in html


def test_deal_page_of_a_converted_lead_links_to_the_lead_and_its_campaign(sales_client, sales_user):
    lead = LeadFactory(first_name="Ana", last_name="Lima", campaign=CampaignFactory(name="Spring webinar"))
    deal = services.lead_convert(lead=lead, actor=sales_user)

    html = sales_client.get(deal.get_absolute_url()).content.decode()

    assert f'<a href="{lead.get_absolute_url()}">Ana Lima</a>' in html
    assert "Spring webinar" in html


def test_deal_page_offers_record_order_only_once_won(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    record_order = f'href="{reverse("sales:order_create")}?deal={deal.pk}"'

    assert record_order not in sales_client.get(deal.get_absolute_url()).content.decode()
    sales_client.post(url("deal_win", deal))
    assert record_order in sales_client.get(deal.get_absolute_url()).content.decode()


def test_unknown_deal_is_not_found(sales_client):
    assert sales_client.get(reverse("sales:deal_detail", args=[987654])).status_code == 404


# Win, lose, reopen


def test_winning_from_the_deal_page_closes_it_and_says_so(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_win", deal), {"next": deal.get_absolute_url()}, follow=True)

    deal.refresh_from_db()
    assert response.redirect_chain == [(deal.get_absolute_url(), 302)]
    assert f"{deal.title} won." in messages_of(response)
    assert deal.status == Deal.Status.WON and deal.closed_at is not None


def test_winning_a_won_deal_is_refused_with_the_reason(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    sales_client.post(url("deal_win", deal))
    closed_at = Deal.objects.get().closed_at

    response = sales_client.post(url("deal_win", deal), follow=True)

    assert "This deal is already won." in messages_of(response)
    assert Deal.objects.get().closed_at == closed_at


def test_the_lose_page_asks_for_the_reason(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.get(url("deal_lose", deal))

    assert response.status_code == 200
    assert "Why was it lost?" in response.content.decode()


def test_losing_without_a_reason_is_refused_on_the_form(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_lose", deal), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Say why the deal was lost."]
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN


def test_losing_with_a_reason_closes_the_deal_and_keeps_the_reason(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_lose", deal), {"reason": "Chose a competitor"}, follow=True)

    deal.refresh_from_db()
    assert response.redirect_chain == [(deal.get_absolute_url(), 302)]
    assert (deal.status, deal.lost_reason) == (Deal.Status.LOST, "Chose a competitor")
    assert "Chose a competitor" in response.content.decode()


def test_losing_a_won_deal_is_refused(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    sales_client.post(url("deal_win", deal))

    response = sales_client.post(url("deal_lose", deal), {"reason": "Changed my mind"}, follow=True)

    assert "This deal is already won." in messages_of(response)
    assert Deal.objects.get().status == Deal.Status.WON


def test_reopening_a_lost_deal_clears_its_close_and_records_the_move(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    sales_client.post(url("deal_lose", deal), {"reason": "No budget"})

    response = sales_client.post(url("deal_reopen", deal), {"stage": stage("Proposal").pk}, follow=True)

    deal.refresh_from_db()
    assert f"{deal.title} reopened in Proposal." in messages_of(response)
    assert (deal.status, deal.closed_at, deal.lost_reason, deal.stage.name) == (Deal.Status.OPEN, None, "", "Proposal")
    assert DealStageChange.objects.filter(deal=deal, to_stage__name="Proposal").exists()


def test_reopening_an_open_deal_is_refused(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_reopen", deal), {}, follow=True)

    assert "This deal is already open." in messages_of(response)


# Editing and deleting


def test_editing_a_deal_saves_the_changes(sales_client, sales_user):
    deal = DealFactory(owner=sales_user, title="Old title")

    response = sales_client.post(
        url("deal_update", deal), deal_form_data(title="New title", contact=deal.contact.pk, amount="99.90")
    )

    deal.refresh_from_db()
    assert response.status_code == 302
    assert (deal.title, deal.amount) == ("New title", Decimal("99.90"))


def test_editing_a_deal_to_a_negative_amount_is_refused_and_stores_nothing(sales_client, sales_user):
    deal = DealFactory(owner=sales_user, amount=Decimal("10.00"))

    response = sales_client.post(url("deal_update", deal), deal_form_data(amount="-1"))

    assert "amount" in response.context["form"].errors
    deal.refresh_from_db()
    assert deal.amount == Decimal("10.00")


def test_deleting_an_open_deal_removes_it(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(url("deal_delete", deal))

    assert response.status_code == 302 and response.url == DEAL_LIST
    assert not Deal.objects.exists()


def test_deleting_a_won_deal_is_refused_with_the_reason(sales_client, sales_user):
    deal = DealFactory(owner=sales_user)
    sales_client.post(url("deal_win", deal))

    response = sales_client.post(url("deal_delete", deal), follow=True)

    assert "A won or lost deal cannot be deleted; reopen it first if it was a mistake." in messages_of(response)
    assert Deal.objects.filter(pk=deal.pk).exists()


# Who may do what


@pytest.mark.parametrize("name", ["deal_board", "deal_list"])
def test_a_manager_reads_the_board_and_the_list(client, manager_user, name):
    client.force_login(manager_user)

    assert client.get(reverse(f"sales:{name}")).status_code == 200


def test_a_manager_reads_a_deal_page_without_its_actions(client, manager_user):
    deal = DealFactory()
    client.force_login(manager_user)

    response = client.get(deal.get_absolute_url())

    assert response.status_code == 200
    assert url("deal_win", deal) not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deal_move", {"stage": "Proposal"}),
        ("deal_win", {}),
        ("deal_lose", {"reason": "No budget"}),
        ("deal_update", {"title": "Changed"}),
        ("deal_delete", {}),
    ],
)
def test_a_manager_cannot_change_deals(client, manager_user, name, data):
    deal = DealFactory()
    client.force_login(manager_user)
    if "stage" in data:
        data = {"stage": stage(data["stage"]).pk}

    response = client.post(url(name, deal), data)

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()
    after = Deal.objects.get()
    assert (after.title, after.status, after.stage_id) == (deal.title, Deal.Status.OPEN, deal.stage_id)


def test_a_manager_cannot_open_a_deal(client, manager_user):
    client.force_login(manager_user)

    assert client.get(DEAL_CREATE).status_code == 403
    assert client.post(DEAL_CREATE, deal_form_data()).status_code == 403
    assert not Deal.objects.exists()


@pytest.mark.parametrize("name", ["deal_board", "deal_list", "deal_create"])
def test_support_sees_nothing_of_the_deals(client, support_user, name):
    client.force_login(support_user)

    assert client.get(reverse(f"sales:{name}")).status_code == 403


def test_support_cannot_open_a_deal_page(client, support_user):
    deal = DealFactory()
    client.force_login(support_user)

    assert client.get(deal.get_absolute_url()).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(BOARD)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_contact_of_a_won_first_deal_becomes_a_customer_through_the_page(sales_client, sales_user):
    contact = ContactFactory()
    deal = DealFactory(contact=contact, owner=sales_user)

    sales_client.post(url("deal_move", deal), {"stage": stage("Won").pk})

    assert Contact.objects.get(pk=contact.pk).customer_status == "customer"
