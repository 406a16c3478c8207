import logging

logger = logging.getLogger("linli.sms")


class LogSmsBackend:
    def send(self, phone: str, message: str) -> None:
        logger.info("SMS to %s: %s", phone, message)
