"""StreamField blocks: the customer-facing description of a service, and the request
form IT staff build for each service from typed fields."""

from wagtail import blocks
from wagtail.images.blocks import ImageBlock


class CalloutBlock(blocks.StructBlock):
    tone = blocks.ChoiceBlock(
        choices=[("info", "Good to know"), ("warning", "Before you order")],
        default="info",
    )
    text = blocks.RichTextBlock(features=["bold", "italic", "link"])

    class Meta:
        icon = "help"
        template = "blocks/callout_block.html"


class StepsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, default="What happens next")
    steps = blocks.ListBlock(blocks.CharBlock(label="Step"))

    class Meta:
        icon = "list-ol"
        template = "blocks/steps_block.html"


class FaqBlock(blocks.StructBlock):
    question = blocks.CharBlock()
    answer = blocks.RichTextBlock(features=["bold", "italic", "link", "ul"])

    class Meta:
        icon = "help"
        template = "blocks/faq_block.html"


class DescriptionBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        form_classname="title", icon="title", template="blocks/heading_block.html"
    )
    paragraph = blocks.RichTextBlock(
        features=["bold", "italic", "link", "ul", "ol"], icon="pilcrow"
    )
    callout = CalloutBlock()
    steps = StepsBlock()
    faq = FaqBlock()
    image = ImageBlock()


# --- Request form fields -------------------------------------------------------
# Each block becomes one question on the service's request form. Answers are keyed
# by the block's id, which survives label edits and reordering.


class BaseQuestionBlock(blocks.StructBlock):
    label = blocks.CharBlock(
        max_length=120, help_text="The question, as people see it."
    )
    help_text = blocks.CharBlock(max_length=255, required=False)
    required = blocks.BooleanBlock(required=False, default=True)

    class Meta:
        form_classname = "struct-block question-block"


class ShortTextQuestionBlock(BaseQuestionBlock):
    max_length = blocks.IntegerBlock(default=200, min_value=1, max_value=1000)

    class Meta:
        icon = "edit"
        label = "Short text"


class LongTextQuestionBlock(BaseQuestionBlock):
    max_length = blocks.IntegerBlock(default=2000, min_value=1, max_value=10000)

    class Meta:
        icon = "pilcrow"
        label = "Long text"


class SingleChoiceQuestionBlock(BaseQuestionBlock):
    choices = blocks.ListBlock(blocks.CharBlock(max_length=120, label="Option"))

    class Meta:
        icon = "radio-empty"
        label = "Single choice"


class MultipleChoiceQuestionBlock(BaseQuestionBlock):
    choices = blocks.ListBlock(blocks.CharBlock(max_length=120, label="Option"))

    class Meta:
        icon = "tick"
        label = "Multiple choice"


class NumberQuestionBlock(BaseQuestionBlock):
    min_value = blocks.IntegerBlock(required=False)
    max_value = blocks.IntegerBlock(required=False)

    class Meta:
        icon = "order"
        label = "Whole number"


class DateQuestionBlock(BaseQuestionBlock):
    not_in_past = blocks.BooleanBlock(
        required=False, default=True, help_text="Refuse dates before today."
    )

    class Meta:
        icon = "date"
        label = "Date"


class YesNoQuestionBlock(BaseQuestionBlock):
    class Meta:
        icon = "help"
        label = "Yes / no"


class RequestFormBlock(blocks.StreamBlock):
    short_text = ShortTextQuestionBlock()
    long_text = LongTextQuestionBlock()
    single_choice = SingleChoiceQuestionBlock()
    multiple_choice = MultipleChoiceQuestionBlock()
    number = NumberQuestionBlock()
    date = DateQuestionBlock()
    yes_no = YesNoQuestionBlock()
