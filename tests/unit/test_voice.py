import pytest

from ringback.engine.voice import MACHINE_ANSWERS, CallScripts, Spoken, spoken_for

SCRIPTS = CallScripts("¿Tiene un momento?", "Le dejo un mensaje.", "es", "+34910000000")


@pytest.mark.parametrize("answered_by", ["human", "unknown", "", "something_new"])
def test_a_person_or_an_unclear_answer_hears_the_live_script_and_is_put_through(answered_by):
    assert spoken_for(SCRIPTS, answered_by) == Spoken("¿Tiene un momento?", "es", "+34910000000", after_beep=False)


@pytest.mark.parametrize("answered_by", [*sorted(MACHINE_ANSWERS), "Machine_End_Beep "])
def test_a_machine_or_fax_gets_the_voicemail_at_once_and_nobody_is_dialled(answered_by):
    assert spoken_for(SCRIPTS, answered_by) == Spoken("Le dejo un mensaje.", "es", None, after_beep=True)


def test_a_call_written_before_voicemail_scripts_speaks_its_one_script_to_a_machine():
    legacy = CallScripts("Hola, le llamo de Acme.", None, "es")
    assert spoken_for(legacy, "machine_end_beep").text == "Hola, le llamo de Acme."
