from ringback.engine.enrollment import StepState
from ringback.engine.model import Channel, GenerationRequest, StepContent, StepPlan, StepStatus
from ringback.engine.sms import finish_text, is_gsm7, needs_opt_out, opt_out_step, segments


def test_segments_count_gsm7_and_ucs2():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("[" * 80) == 1  # extension characters take two septets
    assert segments("[" * 81) == 2
    assert not is_gsm7("¿Cuánto?")  # á is not in GSM-7: the whole text becomes UCS-2
    assert segments("á" * 70) == 1
    assert segments("á" * 71) == 2


def test_opt_out_is_expected_for_us_and_canadian_numbers_only():
    assert needs_opt_out("+14155550100")
    assert not needs_opt_out("+34911234567")
    assert not needs_opt_out(None)


def request(**changes) -> GenerationRequest:
    base = dict(
        template_name="t",
        goal="g",
        tone="t",
        steps=(StepPlan(0, Channel.EMAIL, 0), StepPlan(1, Channel.SMS, 60), StepPlan(2, Channel.SMS, 60)),
        wanted=(1, 2),
        language="es",
        timezone="UTC",
        first_name="Ana",
        sms_opt_out=True,
        sms_max_segments=1,
    )
    return GenerationRequest(**{**base, **changes})


def test_only_the_first_text_gets_the_opt_out_line_in_the_leads_language():
    first = finish_text(request(), 1, StepContent("Hola Ana."))
    assert first.body == "Hola Ana. Responda STOP para darse de baja."
    assert finish_text(request(), 2, StepContent("Hola Ana.")).body == "Hola Ana."
    assert finish_text(request(sms_opt_out=False), 1, StepContent("Hola Ana.")).body == "Hola Ana."


def test_first_text_after_a_skipped_one_gets_it():
    skipped = request(skipped={1: "no phone"})
    assert "STOP" in finish_text(skipped, 2, StepContent("Hola.")).body


def test_a_text_is_cut_on_words_to_fit_its_segments():
    long = StepContent(" ".join(["palabra"] * 60))
    body = finish_text(request(), 1, long).body
    assert segments(body) == 1
    assert body.endswith("palabra Responda STOP para darse de baja.")


def test_the_step_whose_edits_must_keep_opt_out_wording_is_the_first_text_that_runs_to_plus_one():
    def steps(phone: str, first_sms: StepStatus = StepStatus.PLANNED) -> tuple[StepState, ...]:
        return (
            StepState(0, Channel.VOICE, 0, recipient=phone),
            StepState(1, Channel.SMS, 60, first_sms, recipient=phone),
            StepState(2, Channel.SMS, 3_600, recipient=phone),
        )

    assert opt_out_step(steps("+14155550123")) == 1
    assert opt_out_step(steps("+14155550123", StepStatus.SKIPPED)) == 2
    assert opt_out_step(steps("+34911234567")) is None
