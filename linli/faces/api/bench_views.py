"""The ceiling for intake benchmarks (bench/open311_post.py): a bare view that inserts one row and
answers. Mounted only when DEBUG is on or LINLI_BENCH_VIEWS=1."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from linli.core.audit.models import AuditEvent


@csrf_exempt
@require_POST
def bench_insert(request):
    row = AuditEvent.objects.create(action="bench.insert", object_type="bench", object_id="0")
    return JsonResponse({"id": row.pk}, status=201)
