"""Korean date formats as Korean readers write them: 오전/오후 before the time
(Django's own ko formats put it after, "10:47 오전")."""

DATETIME_FORMAT = "Y년 n월 j일 A g:i"
TIME_FORMAT = "A g:i"
