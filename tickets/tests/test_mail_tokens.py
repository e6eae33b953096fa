from tickets.mail.tokens import reply_address, ticket_id_from_address


def test_reply_address_names_its_ticket():
    address = reply_address(42)
    assert address.startswith("reply+42-") and address.endswith("@helpdesk.localhost")
    assert ticket_id_from_address(address) == 42


def test_reply_address_fits_in_a_local_part():
    assert len(reply_address(10**12).partition("@")[0]) <= 64


def test_case_changes_by_mail_servers_do_not_break_it():
    assert ticket_id_from_address(reply_address(42).upper()) == 42


def test_changing_the_ticket_id_breaks_the_signature():
    forged = reply_address(42).replace("+42-", "+43-")
    assert ticket_id_from_address(forged) is None


def test_other_addresses_name_no_ticket():
    assert ticket_id_from_address("support@helpdesk.localhost") is None
    assert ticket_id_from_address("reply+42@helpdesk.localhost") is None
    assert ticket_id_from_address("other+42-" + "0" * 32 + "@helpdesk.localhost") is None
    assert ticket_id_from_address("") is None


def test_addresses_survive_a_secret_key_rotation(settings):
    address = reply_address(42)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-for-this-test-only"
    assert ticket_id_from_address(address) == 42


def test_address_signed_with_an_unknown_key_is_refused(settings):
    address = reply_address(42)
    settings.SECRET_KEY = "a-brand-new-secret-key-for-this-test-only"
    assert ticket_id_from_address(address) is None
