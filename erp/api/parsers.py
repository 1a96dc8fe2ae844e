"""Request body parsers that refuse text PostgreSQL cannot store (NUL characters), with the
path of the offending field, before any serializer, lookup or service sees the body."""

from rest_framework import parsers, serializers

from erp.input_bounds import NUL, NUL_MESSAGE


def paths_with_nul(value, path: str = ""):
    """The paths (`lines[0].sku`) of the strings or keys in parsed JSON that hold a NUL; a
    NUL in a key is written `\\u0000` (the answer, and its idempotency record, is text)."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            shown = str(key).replace(NUL, "\\u0000")
            name = f"{path}.{shown}" if path else shown
            if NUL in str(key):
                yield name
            else:
                yield from paths_with_nul(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_with_nul(item, f"{path}[{index}]" if path else f"[{index}]")


def refuse_nul(data):
    """Raise a 400 naming every field whose text holds a NUL character."""
    if hasattr(data, "lists"):  # QueryDict: form bodies may repeat a key
        data = {key: values if len(values) > 1 else values[0] for key, values in data.lists()}
    paths = list(paths_with_nul(data))
    if paths:
        raise serializers.ValidationError(
            {
                path or "body": [
                    serializers.ErrorDetail(NUL_MESSAGE, code="null_characters_not_allowed")
                ]
                for path in paths
            }
        )
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        refuse_nul(result.data)
        return result
