"""Bring an appeal into any status through the services, the way people would."""

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S


def submit(w, *, resident=None, category=None, grid_index=0, **extra):
    lng, lat = w.point(grid_index)
    extra.setdefault("auto_dispatch", False)
    return svc.appeal_submit(
        actor=resident or w.resident,
        title="小区门口有暴露垃圾",
        body="门口垃圾堆了三天",
        category=category or w.rubbish,
        lng=lng,
        lat=lat,
        **extra,
    )


def bring_to(w, status, **submit_args):
    a = submit(w, **submit_args)
    if status == S.SUBMITTED:
        return a
    if status == S.REJECTED:
        return svc.appeal_reject(actor=w.dispatcher, appeal=a, reason="不属于受理范围")
    if status == S.MERGED:
        master = submit(w)
        return svc.appeal_merge(actor=w.dispatcher, appeal=a, master=master)
    if status == S.WITHDRAWN:
        return svc.appeal_withdraw(actor=w.resident, appeal=a, reason="已自行解决")
    a = svc.appeal_register(actor=w.dispatcher, appeal=a)
    if status == S.REGISTERED:
        return a
    a = svc.appeal_dispatch(actor=w.dispatcher, appeal=a, lead_unit=w.city_mgmt, assisting_units=[w.housing])
    if status == S.DISPATCHED:
        return a
    if status == S.RETURNED:
        return svc.appeal_return(actor=w.handler, appeal=a, reason="不属于本单位职责")
    a = svc.appeal_sign(actor=w.handler, appeal=a)
    if status == S.IN_PROGRESS:
        return a
    a = svc.appeal_handle(actor=w.handler, appeal=a, result="已清运")
    if status == S.HANDLED:
        return a
    if status == S.REOPENED:
        return svc.appeal_verify(actor=w.dispatcher, appeal=a, passed=False, note="现场仍有垃圾")
    a = svc.appeal_verify(actor=w.dispatcher, appeal=a, passed=True)
    assert a.status == S.CLOSED
    return a
