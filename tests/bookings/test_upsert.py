from decimal import Decimal

from bookings.models import AuditEntry, Booking, Financials
from crew.models import CrewEvent
from guests.models import GuestPage
from jada.models import PipelineRun
from jada.services import booking_save
from tests.factories import booking_data


def test_it_creates_booking_financials_crew_event_page_and_run(dock, roster, templates):
    result = booking_save(data=booking_data(dock), via="test")
    assert result.created
    fin = Financials.objects.get(booking=result.booking)
    assert (fin.fee, fin.net_revenue) == (Decimal("151.34"), Decimal("289.41"))
    assert CrewEvent.objects.get(booking_id=result.booking.pk).guest_count == 4
    assert GuestPage.objects.filter(booking_id=result.booking.pk).exists()
    assert PipelineRun.objects.filter(booking=result.booking).count() == 1
    assert AuditEntry.objects.get(booking=result.booking).touches_money


def test_it_changes_nothing_when_the_same_data_comes_again(dock, roster, templates):
    booking_save(data=booking_data(dock), via="test")
    again = booking_save(data=booking_data(dock), via="test")
    assert not again.created and not again.changed_anything
    assert Booking.objects.count() == 1
    assert PipelineRun.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_a_money_only_change_starts_no_pipeline(dock, roster, templates):
    booking_save(data=booking_data(dock), via="test")
    result = booking_save(data=booking_data(dock, gross_revenue=Decimal("900.00")), via="test")
    assert result.money_changed and not result.changed
    assert PipelineRun.objects.count() == 1
    assert AuditEntry.objects.filter(action="changed", touches_money=True).count() == 1
