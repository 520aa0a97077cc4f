# Mensajes de Bert, español. Las claves y variables son las de locales/en/bert.ftl.
# Los números llegan ya formateados como texto; solo los contadores que eligen la forma
# plural ($count, $days, $max) llegan como números: one (1) y other (el resto).

## Piezas comunes

days =
    { $days ->
        [0] menos de un día
        [one] { $days } día
       *[other] { $days } días
    }
arg-symbol = SÍMBOLO
arg-price = PRECIO
arg-code = CÓDIGO

## /start, /help

intro = Soy Bert, un asistente de trading para el mercado spot de Binance. Sigo la estrategia de rupturas Edge70 en velas diarias, dimensiono cada posición según el riesgo y protejo cada una con una orden stop en el exchange.
help-header = Comandos que puedes usar:
help-footer = Los símbolos se pueden escribir como btc, BTC o BTCUSDT.
help-stranger = Todavía no puedes ver ni operar posiciones. Envía /id y pide al propietario que añada tu id.
cmd-start = qué soy y qué puedes hacer
cmd-help = esta lista de comandos
cmd-id = tu id de usuario y el id de este chat
cmd-enter = comprar una posición, dimensionada según el riesgo
cmd-exit = vender toda una posición a mercado
cmd-stop = mover el stop de una posición a un nuevo precio
cmd-list = posiciones abiertas con resultado y stops
cmd-status = conexión, cortacircuitos y estado del trading
cmd-balance = saldos y valor de la cartera
cmd-performance = estadísticas de las operaciones cerradas
cmd-chart = la curva de capital como imagen
cmd-pause = detener nuevas entradas (salidas y stops siguen funcionando)
cmd-resume = volver a permitir nuevas entradas
cmd-lang = cambiar el idioma de este chat
cmd-alerts = qué alertas recibe este chat

## /id, autorización, /lang

id-reply = Tu id es { $user } y el id de este chat es { $chat }.
id-reply-anonymous = Este mensaje se envió en nombre de un grupo o canal, así que no tiene id de usuario. El id de este chat es { $chat }.
not-authorized = No autorizado. Tu id es { $user }.
not-authorized-anonymous = Los mensajes enviados en nombre de un grupo o canal no se pueden autorizar. Envía el comando desde tu propia cuenta.
viewer-refused = Solo los traders pueden hacer eso. Tienes acceso de solo lectura.
lang-set = Idioma: español.
lang-current = Idioma: español. Disponibles: { $list }. Cámbialo con /lang CÓDIGO, por ejemplo /lang en.
lang-unknown = No hablo «{ $code }». Disponibles: { $list }.

## Errores de comandos

error-not-a-command = Los comandos empiezan con una barra. Escribe /help para verlos.
error-other-bot = Ese comando es para otro bot.
error-unknown = No conozco el comando /{ $name }. Escribe /help para ver los comandos.
error-missing-symbol = ¿Qué símbolo? Por ejemplo: /{ $command } BTC
error-bad-symbol = «{ $input }» no es un símbolo. Escribe el activo (BTC) o el par (BTCUSDT).
error-missing-price = ¿Qué precio? Por ejemplo: /stop BTC 41000
error-bad-price = «{ $input }» no sirve como precio. Escribe un número positivo con punto decimal, por ejemplo 41000 o 0.00001234.
error-too-many-args = Demasiadas palabras después de /{ $command }. Uso: { $usage }
error-too-long = Ese mensaje es demasiado largo para ser un comando.

## Confirmaciones (botones)

button-confirm = Confirmar
button-cancel = Cancelar
confirm-expired = Esta confirmación ha caducado. Envía el comando de nuevo.
confirm-not-yours = Solo quien envió el comando puede confirmarlo.
confirm-cancelled = Cancelado. No se hizo nada.

## Rechazos

refusal-paused = El trading está en pausa, así que no hay nuevas entradas. Usa /resume para permitirlas de nuevo.
refusal-breaker-open = El cortacircuitos está abierto: no habrá nuevas órdenes hasta que la conexión con el exchange vuelva a estar sana. Consulta /status.
refusal-already-in-position = Ya tienes { $base }. Usa primero /exit { $base }.
refusal-no-position = No hay ninguna posición abierta en { $base }.
refusal-busy = Ya hay una orden de { $base } en curso. Espera a que termine.
refusal-unknown-symbol = El exchange no lista { $pair }.
refusal-no-price = Todavía no hay precio para { $base }. Inténtalo de nuevo en un momento.
refusal-max-open-positions =
    { $max ->
        [one] Se alcanzó el límite de { $max } posición abierta.
       *[other] Se alcanzó el límite de { $max } posiciones abiertas.
    }
refusal-portfolio-risk-full = Las posiciones abiertas ya arriesgan el { $max } de la cartera, el máximo permitido.
refusal-no-free-balance = No hay { $asset } libre para comprar.
refusal-below-minimum = La orden valdría { $value }, por debajo del mínimo del exchange de { $min }.
refusal-filters = Las reglas del exchange rechazan la orden: { $detail }
refusal-no-portfolio = Todavía no se conoce el valor de la cartera (el exchange no ha enviado saldos). Inténtalo de nuevo en un momento.

## Vista previa y colocación de la entrada

entry-preview-title = ¿Entrar en { $base }?
entry-preview-buy = Comprar { $qty } { $base } a un máximo de { $limit } { $quote } (último precio { $reference }).
entry-preview-value = Coste: hasta { $value } { $quote }.
entry-preview-stop = Stop: { $stop } { $quote }.
entry-preview-risk = Riesgo: { $risk } { $quote }, el { $risk_pct } de la cartera ({ $portfolio } { $quote }).
entry-preview-bound = Tamaño limitado por { $bound }.
bound-risk = el riesgo por operación
bound-max-position = el tamaño máximo de posición
bound-free-balance = el saldo libre
bound-portfolio-risk = el límite de riesgo de la cartera
entry-placed = Entrada colocada: comprando { $qty } { $base } a un máximo de { $limit } { $quote }.
entry-reason-manual = Solicitada por el usuario { $user }.
entry-reason-signal = Activada por una señal Edge70.
entry-fill-full = Comprado { $qty } { $base } a { $price } { $quote }. Entrada ejecutada: { $filled } { $base }, precio medio { $avg }.
entry-fill-partial = Comprado { $qty } { $base } a { $price } { $quote }. Ejecutado hasta ahora: { $filled } de { $ordered } { $base }, precio medio { $avg }.
fill-fee = Comisión: { $fee } { $asset }.
entry-failed = La entrada en { $base } falló; no se compró nada.
reason-line = Motivo: { $reason }

## Stops y salidas

stop-placed = Stop colocado para { $qty } { $base }: se activa en { $stop } y vende a no menos de { $limit } { $quote }.
stop-refused = El exchange rechazó el stop de { $base }. En su lugar se vende la posición a mercado.
stop-lost = El stop de { $base } se canceló o caducó fuera de Bert. Colocando uno nuevo.
stop-vanished = El exchange ya no conoce el stop de { $base }: la posición estaba sin protección. Colocando un stop nuevo.
stop-fills-pending = El stop de { $base } terminó en el exchange, pero aún no se puede leer lo que vendió. Bert no coloca un stop nuevo ni vende nada hasta saberlo. Revisa la posición en Binance.
stop-fill = Stop alcanzado: vendido { $qty } { $base } a { $price } { $quote }.
exit-preview-title = ¿Salir de { $base }?
exit-preview-sell = Vender { $qty } { $base } a mercado.
exit-preview-price = Último precio: { $price } { $quote }.
exit-preview-no-price = No se conoce el precio actual.
exit-preview-pnl = Resultado hasta ahora: { $pnl } { $quote }.
exit-placed = Vendiendo { $qty } { $base } a mercado.
exit-fill = Vendido { $qty } { $base } a { $price } { $quote }.
exit-failed = La venta a mercado de { $base } no se completó. La posición queda protegida por un nuevo stop.
unprotected = ¡{ $base } ESTÁ SIN PROTECCIÓN! No se pudo colocar ni un stop ni una venta a mercado. Actúa ya en el exchange.
exit-reason-manual = solicitada por el usuario { $user }
exit-reason-signal = señal de salida Edge70
exit-reason-stop-hit = se alcanzó el stop
exit-reason-unprotectable = no se pudo colocar el stop
position-closed = { $base } cerrada: { $pnl } { $quote } ({ $pct }), comisiones incluidas.
position-closed-details = Comprado a { $entry }, vendido a { $exit }, cantidad { $qty }. Comisiones { $fees } { $quote }. Mantenida { $held }.
position-closed-reason = Por qué: { $reason }.

## Señales de la estrategia

signal-long = EDGE70 LONG ⬆ { $base }: nuevo máximo de 60 días por encima de { $level } (cierre { $price }).
signal-short = EDGE70 SHORT ⬇ { $base }: nuevo mínimo de 22 días por debajo de { $level } (cierre { $price }).
signal-possible = Posible señal: la tendencia anterior es desconocida, así que revisa el gráfico manualmente.
signal-candle = Vela diaria del { $date }.
signal-auto-long = El trading automático está activado: entrando.
signal-auto-short = El trading automático está activado: saliendo de la posición si la hay.
signal-hint-long = Para comprar: /enter { $base }
signal-hint-short = Si la tienes, para vender: /exit { $base }

## /list, /status, /balance

positions-none = No hay posiciones abiertas.
positions-header =
    { $count ->
        [one] { $count } posición abierta:
       *[other] { $count } posiciones abiertas:
    }
position-line = { $base }: { $qty } a { $entry }, ahora { $price } ({ $pct }, { $pnl } { $quote })
position-line-no-price = { $base }: { $qty } a { $entry }, sin precio actual
position-stop = stop { $stop }, abierta el { $date }
position-no-stop = sin stop en el exchange, abierta el { $date }
status-title = Estado
status-trading-active = Trading: activo, se permiten nuevas entradas.
status-trading-paused = Trading: en pausa, sin nuevas entradas.
status-stream-up = Flujo del exchange: conectado.
status-stream-down = Flujo del exchange: desconectado.
status-breaker-closed = Cortacircuitos: cerrado.
status-breaker-open = Cortacircuitos: ABIERTO ({ $reason }).
status-counts = Posiciones abiertas: { $positions }. Órdenes abiertas: { $orders }. Símbolos vigilados: { $symbols }.
status-auto-on = Trading automático: activado, las señales operan solas.
status-auto-off = Trading automático: desactivado, las señales solo avisan.
balances-none = No hay saldos.
balances-header = Saldos:
balance-line = { $asset }: { $total } (≈ { $value } { $quote })
balance-line-no-value = { $asset }: { $total } (sin precio)
balances-total = Valor de la cartera: { $value } { $quote }

## Estado del trading y seguridad

paused = Trading en pausa: sin nuevas entradas. Las salidas y los stops siguen funcionando. Usa /resume para continuar.
resumed = Trading reanudado: se permiten nuevas entradas.
order-outcome-unknown = El resultado de la orden { $id } ({ $base }) es desconocido. Consultando al exchange; la orden no se volverá a enviar.
breaker-opened = Cortacircuitos abierto: { $reason }. No habrá nuevas órdenes hasta que se cierre; los stops siguen en el exchange.
breaker-closed = Cortacircuitos cerrado: el trading vuelve a la normalidad.
rate-limit-halt = Se alcanzó el límite de peticiones de Binance: Bert no envía peticiones hasta { $until }. Los stops ya puestos en el exchange siguen funcionando; entradas, salidas y movimientos de stop esperan.
rate-limit-banned = Binance ha bloqueado esta IP por exceso de peticiones: Bert no envía peticiones hasta { $until }. Los stops ya puestos en el exchange siguen funcionando; entradas, salidas y movimientos de stop esperan.
breaker-reason-stream-down = el flujo del exchange está caído
breaker-reason-request-failures =
    { $count ->
        [one] { $count } petición al exchange falló
       *[other] { $count } peticiones seguidas al exchange fallaron
    }
breaker-reason-reconciliation = falló la conciliación con el exchange

## Consola

console-unavailable = /{ $command } no está disponible en la consola.
console-quit-hint = Escribe quit para salir.

## Reconciliation and lifecycle

refusal-not-reconciled = Tras el reinicio, Bert aún está revisando el exchange. Inténtalo de nuevo en un momento.
reconcile-order-changed = Conciliación: la orden { $id } ({ $base }) está { $status } en el exchange. Bert no se había enterado y ya la ha aplicado.
reconcile-unknown-order = Conciliación: la orden { $id } de { $base } está en el exchange, pero Bert no tiene registro de ella. Revísala en Binance.
reconcile-balance-short = Conciliación: la posición de Bert en { $base } es { $position }, pero la cuenta tiene { $held }. ¿Se vendió algo fuera de Bert?
started =
    { $count ->
        [0] Bert se ha iniciado. No hay posiciones abiertas.
        [one] Bert se ha iniciado con { $count } posición abierta.
       *[other] Bert se ha iniciado con { $count } posiciones abiertas.
    }
stopping = Bert se está deteniendo. Las posiciones abiertas siguen protegidas por sus stops en el exchange.

## ----- Issue 6: performance report, /performance, /chart, /alerts (keep this block at the end) -----

performance-title =
    { $count ->
        [one] Rendimiento: { $count } posición abierta
       *[other] Rendimiento: { $count } posiciones abiertas
    }
performance-title-none = Rendimiento: no hay posiciones abiertas
performance-line = { $base }: { $pct } desde la entrada ({ $entry } → { $price }), P&L { $pnl } { $quote }
performance-stop = stop { $stop }, { $distance } por debajo del precio
performance-stop-no-price = stop { $stop }
performance-no-stop = no hay stop en el exchange
performance-unrealized = P&L no realizado: { $pnl } { $quote }, comisiones incluidas.
performance-portfolio = Valor de la cartera: { $value } { $quote } ({ $change } { $quote }, { $pct } desde { $since }).
stats-none = Aún no hay operaciones cerradas. Las estadísticas aparecen al cerrar la primera posición.
stats-title =
    { $count ->
        [one] Operaciones cerradas: { $count }
       *[other] Operaciones cerradas: { $count }
    }
stats-wins = Ganadoras { $wins }, perdedoras { $losses }, tasa de acierto { $rate }.
stats-pnl = P&L { $total } { $quote }, de media { $avg } { $quote } por operación, comisiones incluidas.
stats-fees = Comisiones pagadas: { $fees } { $quote }.
stats-best = Mejor: { $base } { $pnl } { $quote } ({ $pct }), cerrada el { $date }.
stats-worst = Peor: { $base } { $pnl } { $quote } ({ $pct }), cerrada el { $date }.
stats-drawdown = Caída máxima: { $amount } { $quote } ({ $pct }).
stats-drawdown-amount = Caída máxima: { $amount } { $quote }.
stats-months = Por mes:
stats-month =
    { $trades ->
        [one] { $month }: { $trades } operación, { $wins } ganadoras ({ $rate }), { $pnl } { $quote }
       *[other] { $month }: { $trades } operaciones, { $wins } ganadoras ({ $rate }), { $pnl } { $quote }
    }
stats-unavailable = El historial de operaciones no se puede leer ahora. Inténtalo en un minuto.
chart-title = Bert: capital
chart-caption = Capital según las operaciones cerradas, comisiones incluidas (▲ entradas, ● salidas). Cartera ahora: { $value } { $quote }.
chart-caption-empty = Aún no hay operaciones cerradas: la curva se completa a medida que se cierran posiciones.
chart-failed = No se pudo dibujar el gráfico. Inténtalo más tarde.
alerts-title = Alertas en este chat (pulsa un botón para cambiar):
alerts-name-fills = Operaciones
alerts-name-signals = Señales
alerts-name-performance = Rendimiento
alerts-name-warnings = Avisos
alerts-desc-fills = entradas, ejecuciones, stops, salidas y posiciones cerradas
alerts-desc-signals = rupturas de Edge70 al alza y a la baja
alerts-desc-performance = el informe periódico de posiciones abiertas y de la cartera
alerts-desc-warnings = seguridad, conciliación, arranque y parada
alerts-line-on = { $name }: activadas ({ $description })
alerts-line-off = { $name }: desactivadas ({ $description })
alerts-footer = Las respuestas a comandos llegan siempre, y también las alertas de una posición que se quedó sin su stop, aunque los avisos estén silenciados.
alerts-switched-on = { $name }: activadas
alerts-switched-off = { $name }: desactivadas
alerts-not-allowed = Solo los traders y los observadores pueden cambiar las alertas de este chat.
## ---- Issue 8: moving a stop, portfolio warnings, signal buttons (keep this block at the end) ----

stop-preview-title = ¿Mover el stop de { $base }?
stop-preview-move = Stop: { $old } → { $stop } { $quote }.
stop-preview-sell = Si se activa, vende { $qty } { $base } a no menos de { $limit } { $quote }.
stop-preview-price = Precio actual: { $price } { $quote }.
stop-preview-pnl = Resultado si el stop se ejecuta a su precio de activación: { $pnl } { $quote }, comisiones pagadas incluidas.
stop-moved = Stop movido para { $qty } { $base }: de { $old } a { $stop }. Vende a no menos de { $limit } { $quote }.
stop-move-failed-kept = El stop de { $base } no se movió. El stop anterior en { $old } { $quote } sigue en su sitio.
stop-move-failed-restoring = El exchange canceló el stop anterior de { $base } pero rechazó el nuevo. Se vuelve a colocar el stop anterior en { $old } { $quote }.
stop-move-failed-gone = El stop de { $base } no se movió: el stop anterior en { $old } { $quote } ya no está en el exchange. Bert comprueba si se ejecutó.
stop-restored = El stop anterior de { $base } está de vuelta para { $qty }: se activa en { $stop } y vende a no menos de { $limit } { $quote }.
refusal-stop-not-below-price = Un stop en { $stop } no está por debajo del precio actual de { $base } ({ $price } { $quote }): vendería de inmediato. Elige un precio más bajo.
refusal-no-stop-to-move = { $base } no tiene ahora un stop activo en el exchange que mover (se está colocando uno). Inténtalo de nuevo en un momento.
warning-bnb-low = Queda poco BNB para comisiones: { $free } BNB, unos { $value } { $quote } (el aviso es por debajo de { $min } { $quote }). Sin BNB, las comisiones se pagan a la tarifa completa.
warning-bnb-ok = El BNB para comisiones vuelve a estar por encima del límite: { $free } BNB, unos { $value } { $quote }.
warning-unexplained =
    { $count ->
        [one] Un saldo libre de más de { $min } { $quote } que ninguna posición abierta explica:
       *[other] Saldos libres de más de { $min } { $quote } que ninguna posición abierta explica:
    }
warning-unexplained-line = • { $asset }: { $qty } (unos { $value } { $quote })
warning-unexplained-cleared = Ya no hay saldos libres sin explicar.
signal-button-enter = Entrar en { $base }
signal-button-expired = Esta señal ha caducado: su vela diaria tiene más de un día.
signal-button-traders-only = Solo los traders pueden entrar desde una señal.

## ---- Console views and text alert switches (console /performance, /chart, /alerts) ----

alerts-usage = Cambia una categoría con /alerts CATEGORÍA on o /alerts CATEGORÍA off. Categorías: { $categories }.
console-alerts-title = Alertas en este chat:
console-alerts-unavailable = No se pueden leer los ajustes de alertas ahora mismo.
console-chart-saved = Gráfico guardado en { $path }
